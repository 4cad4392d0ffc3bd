package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// readManifest takes the stack name and region from the cloud assembly manifest that CDK
// writes next to its templates, when there is one.
func (t *Template) readManifest(path, templateFile string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil // no cloud assembly around the template
	}
	var m struct {
		Artifacts map[string]struct {
			Type        string `json:"type"`
			Environment string `json:"environment"`
			Properties  struct {
				TemplateFile string `json:"templateFile"`
				StackName    string `json:"stackName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("cloud assembly manifest %s: %w", path, err)
	}
	for id, a := range m.Artifacts {
		if a.Type != "aws:cloudformation:stack" || a.Properties.TemplateFile != templateFile {
			continue
		}
		t.StackName = id
		if a.Properties.StackName != "" {
			t.StackName = a.Properties.StackName
		}
		// aws://<account>/<region>, with unknown-account / unknown-region placeholders.
		if env, ok := strings.CutPrefix(a.Environment, "aws://"); ok {
			if _, region, ok := strings.Cut(env, "/"); ok && region != "unknown-region" {
				t.Region = region
			}
		}
	}
	return nil
}

// AssemblyTemplates returns the template files of the stacks of a cloud assembly
// directory (as listed in its manifest.json), sorted.
func AssemblyTemplates(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("cloud assembly %s: %w", dir, err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile string `json:"templateFile"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cloud assembly %s: manifest.json: %w", dir, err)
	}
	var out []string
	for _, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" && a.Properties.TemplateFile != "" {
			out = append(out, filepath.Join(dir, a.Properties.TemplateFile))
		}
	}
	sort.Strings(out)
	return out, nil
}

// ResolveTemplatePath accepts a template file or a cloud assembly directory holding
// exactly one stack, and returns the template file.
func ResolveTemplatePath(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	if !st.IsDir() {
		return path, nil
	}
	files, err := AssemblyTemplates(path)
	if err != nil {
		return "", err
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
