package cfnrules

import (
	"encoding/json"
	"errors"
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

// StackTemplate is one stack template of a cloud assembly.
type StackTemplate struct {
	// Stack is the artifact id (the stack's id in the assembly).
	Stack string
	// File is the template's path.
	File string
	// StackName is the name CloudFormation gives the stack ("" when it is the artifact id).
	StackName string
	// Account and Region are the stack's environment ("" when unknown).
	Account, Region string
}

// Templates lists every stack template of the cloud assembly in dir, nested assemblies
// (CDK stages) included, sorted by file.
func Templates(dir string) ([]StackTemplate, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("cloud assembly %s: %w", dir, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cloud assembly %s: manifest.json: %w", dir, err)
	}
	var out []StackTemplate
	for id, a := range m.Artifacts {
		switch a.Type {
		case "aws:cloudformation:stack":
			st := StackTemplate{Stack: id, File: filepath.Join(dir, a.Properties.TemplateFile), StackName: a.Properties.StackName}
			st.Account, st.Region = environment(a.Environment)
			out = append(out, st)
		case "cdk:cloud-assembly":
			nested, err := Templates(filepath.Join(dir, a.Properties.DirectoryName))
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

// Load reads and parses one stack template.
func Load(st StackTemplate) (*Template, error) {
	body, err := os.ReadFile(st.File)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(st.Stack, body)
	if err != nil {
		return nil, err
	}
	t.Account, t.Region = st.Account, st.Region
	return t, nil
}

// CheckAssembly checks every stack template of the cloud assembly in dir. It returns the
// reports of all of them, and an error listing every finding when any template fails.
func CheckAssembly(dir string) ([]Report, error) {
	list, err := Templates(dir)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("cloud assembly %s holds no stack template", dir)
	}
	var reports []Report
	var errs []error
	for _, st := range list {
		t, err := Load(st)
		if err != nil {
			// An unreadable template fails the gate like a broken one, and is removed too.
			r := Report{Template: st.Stack, File: st.File, Findings: []Finding{{RuleReference, err.Error()}}}
			reports = append(reports, r)
			errs = append(errs, r.Err())
			continue
		}
		r := Check(t)
		r.File = st.File
		reports = append(reports, r)
		if err := r.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return reports, errors.Join(errs...)
}
