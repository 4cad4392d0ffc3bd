// Package cfn is payhook's one model of a synthesized CloudFormation template and its
// cloud assembly, shared by the rules gate (internal/cfnrules), the bootstrap policy
// (pipeline/bootstrap) and local mode (internal/localrun).
//
// Stacks lists the stacks of a cloud assembly, nested stage assemblies included, with
// their names and environments; Load and ParseTemplate read a template (JSON, as CDK
// writes it) with what its assembly says about it (stack name, account, region, code
// assets). Intrinsic functions are read two ways: ReferencesIn lists what a value refers
// to (for dependency order and cycles); Symbolic renders a value with each reference as a
// placeholder ("{GetAtt:Id.Arn}"), so policies can be evaluated before anything exists
// (Evaluate); Resolver evaluates Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If and the other
// functions concretely, against the values local provisioning records for each resource.
// The helpers in values.go read resolved JSON values as CloudFormation would.
//
// Nothing here creates anything: internal/localrun/provision does, with this package.
package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Template is a parsed CloudFormation template (JSON, as CDK synthesizes it).
type Template struct {
	// Name identifies the template in messages: the stack's artifact id in its cloud
	// assembly, or what the caller of Parse named it.
	Name string
	// Path is the file the template was read from ("" when parsed from bytes).
	Path string
	// StackName is the stack's name: from the cloud assembly's manifest.json next to the
	// template when there is one, else the file name without ".template.json", or
	// "local" when unknown.
	StackName string
	// Account and Region are the stack's environment from the cloud assembly's manifest
	// ("" when the stack is environment-agnostic or there is no manifest): they render
	// AWS::AccountId and AWS::Region (Symbolic).
	Account, Region string
	// Size is the template body's size in bytes.
	Size int
	// Description is the template's description.
	Description string
	// Transform is the template's Transform section (nil when none): local mode refuses
	// one, since it would have to run the macro.
	Transform any
	// Parameters holds the template's parameters by name.
	Parameters map[string]Parameter
	// Mappings holds the template's mappings (for Fn::FindInMap).
	Mappings map[string]map[string]map[string]any
	// Conditions holds the raw condition expressions by name.
	Conditions map[string]any
	// Resources holds the resources by logical id.
	Resources map[string]*Resource
	// Outputs holds the raw outputs by name.
	Outputs map[string]any
}

// Parameter is a template parameter. Only its default value is used locally.
type Parameter struct {
	// Type is the parameter type.
	Type string `json:"Type"`
	// Default is the default value, nil when there is none.
	Default any `json:"Default"`
}

// Resource is one resource of a template.
type Resource struct {
	// LogicalID is the resource's key in the template's Resources section.
	LogicalID string `json:"-"`
	// Type is the CloudFormation resource type, e.g. AWS::SQS::Queue.
	Type string `json:"Type"`
	// Properties holds the raw (unresolved) properties.
	Properties map[string]any `json:"Properties"`
	// DependsOn lists explicit dependencies (a string or a list in the template).
	DependsOn []string `json:"-"`
	// Condition names the condition the resource is created under ("" for always).
	Condition string `json:"Condition"`
	// Metadata holds the resource's metadata (CDK puts the construct path there).
	Metadata map[string]any `json:"Metadata"`
	// UpdatePolicy and CreationPolicy are the raw attributes.
	UpdatePolicy   any `json:"UpdatePolicy"`
	CreationPolicy any `json:"CreationPolicy"`
}

// ParseTemplate reads and parses the CloudFormation JSON template at path, with the stack
// name and environment the cloud assembly's manifest.json beside it gives (else the file
// name without ".template.json").
func ParseTemplate(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	base := filepath.Base(path)
	t, err := Parse(base, data)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	t.Path = path
	if name, ok := strings.CutSuffix(base, ".template.json"); ok && name != "" {
		t.Name, t.StackName = name, name
	}
	if err := t.readManifest(filepath.Dir(path), base); err != nil {
		return nil, err
	}
	return t, nil
}

// Parse parses a CloudFormation JSON template body; name identifies it in messages.
func Parse(name string, data []byte) (*Template, error) {
	var raw struct {
		Description string                               `json:"Description"`
		Parameters  map[string]Parameter                 `json:"Parameters"`
		Mappings    map[string]map[string]map[string]any `json:"Mappings"`
		Conditions  map[string]any                       `json:"Conditions"`
		Resources   map[string]json.RawMessage           `json:"Resources"`
		Outputs     map[string]any                       `json:"Outputs"`
		Transform   any                                  `json:"Transform"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse template JSON: %w", err)
	}
	if len(raw.Resources) == 0 {
		return nil, fmt.Errorf("template has no Resources")
	}
	t := &Template{
		Name:        name,
		StackName:   "local",
		Size:        len(data),
		Description: raw.Description,
		Transform:   raw.Transform,
		Parameters:  raw.Parameters,
		Mappings:    raw.Mappings,
		Conditions:  raw.Conditions,
		Resources:   make(map[string]*Resource, len(raw.Resources)),
		Outputs:     raw.Outputs,
	}
	for id, body := range raw.Resources {
		r, err := parseResource(id, body)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		t.Resources[id] = r
	}
	return t, nil
}

// parseResource parses one entry of the Resources section.
func parseResource(id string, body json.RawMessage) (*Resource, error) {
	if string(body) == "null" {
		return nil, fmt.Errorf("null")
	}
	var r Resource
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.Type == "" {
		return nil, fmt.Errorf("no Type")
	}
	var dep struct {
		DependsOn any `json:"DependsOn"`
	}
	if err := json.Unmarshal(body, &dep); err != nil {
		return nil, err
	}
	switch d := dep.DependsOn.(type) {
	case nil:
	case string:
		r.DependsOn = []string{d}
	case []any:
		for _, x := range d {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("DependsOn holds a non-string %v", x)
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	default:
		return nil, fmt.Errorf("DependsOn is neither a string nor a list")
	}
	if r.Properties == nil {
		r.Properties = map[string]any{}
	}
	r.LogicalID = id
	return &r, nil
}

// LogicalIDs returns the logical ids of the resources of the given types (all resources
// when no type is given), sorted.
func (t *Template) LogicalIDs(types ...string) []string {
	want := map[string]bool{}
	for _, ty := range types {
		want[ty] = true
	}
	var ids []string
	for id, r := range t.Resources {
		if len(types) == 0 || want[r.Type] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ConstructPath returns the construct path CDK recorded for a resource ("" when there is none).
func (t *Template) ConstructPath(id string) string {
	if r := t.Resources[id]; r != nil {
		if p, ok := r.Metadata["aws:cdk:path"].(string); ok {
			return p
		}
	}
	return ""
}

// Describe names a resource for a message: its logical id and, when known, its construct
// path.
func (t *Template) Describe(id string) string {
	if p := t.ConstructPath(id); p != "" {
		return id + " (" + p + ")"
	}
	return id
}

// Property returns a resource's raw property (nil when the resource or property is absent).
func (t *Template) Property(id, name string) any {
	if r := t.Resources[id]; r != nil {
		return r.Properties[name]
	}
	return nil
}

var (
	assetHash   = regexp.MustCompile(`[0-9a-f]{64}`)
	versionHash = regexp.MustCompile(`CurrentVersion([0-9A-F]{8})[0-9a-f]{32}`)
)

// Normalize makes a template body stable across builds: asset hashes, and the Lambda version
// logical ids derived from the code's hash, change with every code change and say nothing
// about the infrastructure. The golden templates (tests/testdata) are normalized, and so is
// what `go run mage.go diff BASE=...` compares with them.
func Normalize(body []byte) []byte {
	b := assetHash.ReplaceAll(body, []byte("<asset-hash>"))
	return versionHash.ReplaceAll(b, []byte("CurrentVersion${1}<code-hash>"))
}
