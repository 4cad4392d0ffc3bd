// Package cfnrules checks a synthesized CloudFormation template against the rules that
// CloudFormation and the AWS services enforce only at deploy time, so that a template which
// AWS would refuse, or which would deploy but not work, is refused at synth instead:
//
//   - no dependency cycle, counting every edge CloudFormation counts (Ref, Fn::GetAtt,
//     Fn::Sub and DependsOn, inside Properties, UpdatePolicy, CreationPolicy and Metadata);
//     a cycle is reported as a path of logical ids and construct paths;
//   - every Ref, Fn::GetAtt, Fn::Sub and DependsOn target exists; logical ids are
//     alphanumeric; CloudFormation's quotas (resources, outputs, parameters, mappings,
//     template size) hold;
//   - every alarm can deliver: each SNS alarm action's topic policy lets CloudWatch publish
//     and, for a topic encrypted with a key of the template, the key policy lets CloudWatch
//     use the key;
//   - every Lambda event source and integration is allowed: API Gateway and EventBridge have
//     a lambda:InvokeFunction permission naming exactly the function or alias they call, and
//     each SQS event source's function role may receive and delete on its queue.
//
// The package reads JSON only (no jsii, no network), so `mage synth` runs it on every
// template it writes. Policies are evaluated with AWS's documented order (an explicit Deny
// wins, then an Allow, else the implicit deny) for the request the AWS service would make.
package cfnrules

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Template is a parsed CloudFormation template (JSON, as CDK synthesizes it).
type Template struct {
	// Name identifies the template in messages (a stack name or a file path).
	Name string
	// Account and Region are the stack's environment when known (from the cloud
	// assembly's manifest); "" leaves AWS::AccountId and AWS::Region symbolic.
	Account, Region string
	// Size is the template body's size in bytes.
	Size int
	// Parameters, Mappings, Conditions and Outputs are the raw sections.
	Parameters, Mappings, Conditions, Outputs map[string]any
	// Resources holds the resources by logical id.
	Resources map[string]*Resource
}

// Resource is one resource of a template, its attributes kept raw.
type Resource struct {
	// Type is the CloudFormation resource type, e.g. AWS::SNS::Topic.
	Type string `json:"Type"`
	// Properties holds the raw properties.
	Properties map[string]any `json:"Properties"`
	// DependsOn is a logical id or a list of them.
	DependsOn any `json:"DependsOn"`
	// UpdatePolicy, CreationPolicy and Metadata are the raw attributes.
	UpdatePolicy   any `json:"UpdatePolicy"`
	CreationPolicy any `json:"CreationPolicy"`
	Metadata       any `json:"Metadata"`
	// Condition names the condition the resource is created under.
	Condition string `json:"Condition"`
}

// Parse reads a template body. name identifies it in findings.
func Parse(name string, body []byte) (*Template, error) {
	var raw struct {
		Parameters, Mappings, Conditions, Outputs map[string]any
		Resources                                 map[string]*Resource
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	if raw.Resources == nil {
		return nil, fmt.Errorf("template %s: no Resources section", name)
	}
	for id, r := range raw.Resources {
		if r == nil {
			return nil, fmt.Errorf("template %s: resource %s is null", name, id)
		}
	}
	return &Template{
		Name: name, Size: len(body),
		Parameters: raw.Parameters, Mappings: raw.Mappings, Conditions: raw.Conditions, Outputs: raw.Outputs,
		Resources: raw.Resources,
	}, nil
}

// Path returns the construct path CDK recorded for a resource ("" when there is none).
func (t *Template) Path(id string) string {
	r := t.Resources[id]
	if r == nil {
		return ""
	}
	if m, ok := r.Metadata.(map[string]any); ok {
		if p, ok := m["aws:cdk:path"].(string); ok {
			return p
		}
	}
	return ""
}

// describe names a resource for a message: its logical id and, when known, its construct path.
func (t *Template) describe(id string) string {
	if p := t.Path(id); p != "" {
		return id + " (" + p + ")"
	}
	return id
}

// ofType returns the logical ids of the resources of type typ, sorted.
func (t *Template) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// prop returns a resource's property (nil when absent).
func (t *Template) prop(id, name string) any {
	if r := t.Resources[id]; r != nil {
		return r.Properties[name]
	}
	return nil
}
