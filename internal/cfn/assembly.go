package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// manifest is the part of a cloud assembly's manifest.json read here.
type manifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		Properties  struct {
			TemplateFile  string `json:"templateFile"`
			DirectoryName string `json:"directoryName"`
			StackName     string `json:"stackName"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// readManifestIn reads the manifest.json of the cloud assembly in dir.
func readManifestIn(dir string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return m, fmt.Errorf("cloud assembly %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("cloud assembly %s: manifest.json: %w", dir, err)
	}
	return m, nil
}

// Stack is one stack of a cloud assembly.
type Stack struct {
	// ID is the stack's artifact id in the assembly.
	ID string
	// File is the template's path.
	File string
	// StackName is the name CloudFormation gives the stack ("" when it is the artifact id).
	StackName string
	// Account and Region are the stack's environment ("" when unknown).
	Account, Region string
}

// Stacks lists every stack of the cloud assembly in dir, nested assemblies (CDK stages)
// included, sorted by template file.
func Stacks(dir string) ([]Stack, error) {
	m, err := readManifestIn(dir)
	if err != nil {
		return nil, err
	}
	var out []Stack
	for id, a := range m.Artifacts {
		switch a.Type {
		case "aws:cloudformation:stack":
			st := Stack{ID: id, File: filepath.Join(dir, a.Properties.TemplateFile), StackName: a.Properties.StackName}
			st.Account, st.Region = environment(a.Environment)
			out = append(out, st)
		case "cdk:cloud-assembly":
			nested, err := Stacks(filepath.Join(dir, a.Properties.DirectoryName))
			if err != nil {
				return nil, err
			}
			out = append(out, nested...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// environment splits "aws://account/region", dropping CDK's "unknown-…" placeholders.
func environment(env string) (account, region string) {
	rest, ok := strings.CutPrefix(env, "aws://")
	if !ok {
		return "", ""
	}
	account, region, _ = strings.Cut(rest, "/")
	if strings.HasPrefix(account, "unknown-") {
		account = ""
	}
	if strings.HasPrefix(region, "unknown-") {
		region = ""
	}
	return account, region
}

// Load reads and parses one stack's template, with its name and environment.
func Load(st Stack) (*Template, error) {
	body, err := os.ReadFile(st.File)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(st.ID, body)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", st.File, err)
	}
	t.Path, t.Account, t.Region = st.File, st.Account, st.Region
	t.StackName = st.StackName
	if t.StackName == "" {
		t.StackName = st.ID
	}
	return t, nil
}

// readManifest takes the stack name and environment from the cloud assembly manifest in
// dir, the template's directory, when there is one.
func (t *Template) readManifest(dir, templateFile string) error {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		return nil // no cloud assembly around the template
	}
	m, err := readManifestIn(dir)
	if err != nil {
		return err
	}
	for id, a := range m.Artifacts {
		if a.Type != "aws:cloudformation:stack" || a.Properties.TemplateFile != templateFile {
			continue
		}
		t.Name, t.StackName = id, id
		if a.Properties.StackName != "" {
			t.StackName = a.Properties.StackName
		}
		t.Account, t.Region = environment(a.Environment)
	}
	return nil
}

// ResolveTemplatePath accepts a template file or a cloud assembly directory holding
// exactly one stack of its own (nested assemblies aside), and returns the template file.
func ResolveTemplatePath(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	if !st.IsDir() {
		return path, nil
	}
	stacks, err := Stacks(path)
	if err != nil {
		return "", err
	}
	var files []string
	for _, s := range stacks {
		if filepath.Dir(s.File) == filepath.Clean(path) {
			files = append(files, s.File)
		}
	}
	if len(files) != 1 {
		return "", fmt.Errorf("cloud assembly %s has %d stacks %v: name the template file", path, len(files), files)
	}
	return files[0], nil
}

// CodeAsset returns the local directory that holds the code of a resource whose Code
// property names a file asset of the cloud assembly (Code.S3Key, as CDK writes it for a
// Lambda function built from a directory): the asset's source in the asset manifest
// (<stack>.assets.json) next to the template.
func (t *Template) CodeAsset(logicalID string) (string, error) {
	r, ok := t.Resources[logicalID]
	if !ok {
		return "", fmt.Errorf("code asset: no resource %s", logicalID)
	}
	code, _ := r.Properties["Code"].(map[string]any)
	key, _ := code["S3Key"].(string)
	if key == "" {
		return "", fmt.Errorf("code asset of %s: Code.S3Key is not a literal asset key", logicalID)
	}
	name, ok := strings.CutSuffix(filepath.Base(t.Path), ".template.json")
	if !ok {
		return "", fmt.Errorf("code asset of %s: the template %q is not part of a cloud assembly", logicalID, t.Path)
	}
	path := filepath.Join(filepath.Dir(t.Path), name+".assets.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("code asset of %s: %w", logicalID, err)
	}
	var m struct {
		Files map[string]struct {
			Source struct {
				Path      string `json:"path"`
				Packaging string `json:"packaging"`
			} `json:"source"`
			Destinations map[string]struct {
				ObjectKey string `json:"objectKey"`
			} `json:"destinations"`
		} `json:"files"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("code asset of %s: asset manifest %s: %w", logicalID, path, err)
	}
	for _, f := range m.Files {
		for _, d := range f.Destinations {
			if d.ObjectKey != key {
				continue
			}
			if f.Source.Packaging != "zip" {
				return "", fmt.Errorf("code asset of %s: %s is a %s asset, not a directory", logicalID, key, f.Source.Packaging)
			}
			return filepath.Join(filepath.Dir(t.Path), f.Source.Path), nil
		}
	}
	return "", fmt.Errorf("code asset of %s: %s is not in %s", logicalID, key, path)
}
