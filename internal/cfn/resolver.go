package cfn

import (
	"errors"
	"fmt"
	"strings"
)

// LocalAccount is the AWS account id every local ARN carries.
const LocalAccount = "000000000000"

// ErrNotEmulated marks a reference to a resource that exists in the template but is not
// emulated locally, so its Ref or attributes have no local value.
var ErrNotEmulated = errors.New("not emulated locally")

// PropertyError is a failure to resolve one property of one resource.
type PropertyError struct {
	// LogicalID and Type name the resource.
	LogicalID, Type string
	// Property is the dotted path of the property, e.g. Environment.Variables.QUEUE_URL.
	Property string
	// Err is the cause.
	Err error
}

// Error names the resource and the property, then the cause.
func (e *PropertyError) Error() string {
	return fmt.Sprintf("resource %s (%s), property %s: %v", e.LogicalID, e.Type, e.Property, e.Err)
}

// Unwrap returns the cause.
func (e *PropertyError) Unwrap() error { return e.Err }

// noValue is what Ref AWS::NoValue resolves to: the enclosing property or list element
// is removed.
type noValue struct{}

// Resolver evaluates CloudFormation intrinsic functions (Ref, Fn::GetAtt, Fn::Join,
// Fn::Select, Fn::Split, Fn::Sub, Fn::If, Fn::FindInMap, Fn::Base64, Fn::GetAZs and the
// condition functions) against the values of locally created resources.
//
// A resource's Ref value and attributes are known once it has been created locally
// (SetRef, SetAttr); pseudo parameters come from the fields below and template
// parameters from their defaults. Anything else is an error that says why.
type Resolver struct {
	// Region is AWS::Region.
	Region string
	// Account is AWS::AccountId.
	Account string
	// Partition is AWS::Partition ("aws").
	Partition string
	// URLSuffix is AWS::URLSuffix ("amazonaws.com").
	URLSuffix string
	// StackName is AWS::StackName.
	StackName string
	// Emulated tells whether resources of a type are created locally: a reference to
	// one whose value is not known yet is "not created yet", to any other an
	// ErrNotEmulated. Nil takes every type for emulated.
	Emulated func(resourceType string) bool

	tmpl       *Template
	refs       map[string]any
	attrs      map[string]map[string]any
	conditions map[string]bool
	evaluating map[string]bool
}

// NewResolver returns a resolver for t in region, with the local account id.
func NewResolver(t *Template, region string) *Resolver {
	if region == "" {
		region = "us-east-1"
	}
	return &Resolver{
		Region:     region,
		Account:    LocalAccount,
		Partition:  "aws",
		URLSuffix:  "amazonaws.com",
		StackName:  t.StackName,
		tmpl:       t,
		refs:       map[string]any{},
		attrs:      map[string]map[string]any{},
		conditions: map[string]bool{},
		evaluating: map[string]bool{},
	}
}

// SetRef records what Ref of the resource id resolves to.
func (r *Resolver) SetRef(id string, v any) { r.refs[id] = v }

// SetAttr records what Fn::GetAtt [id, attr] resolves to.
func (r *Resolver) SetAttr(id, attr string, v any) {
	if r.attrs[id] == nil {
		r.attrs[id] = map[string]any{}
	}
	r.attrs[id][attr] = v
}

// Property resolves the property at the dotted path of res (e.g. "Environment.Variables").
// It reports whether the property is present; errors are *PropertyError.
func (r *Resolver) Property(res *Resource, path string) (any, bool, error) {
	raw, ok := LookupPath(res.Properties, path)
	if !ok {
		return nil, false, nil
	}
	v, err := r.Resolve(raw)
	if err != nil {
		return nil, true, &PropertyError{LogicalID: res.LogicalID, Type: res.Type, Property: path, Err: err}
	}
	if _, drop := v.(noValue); drop {
		return nil, false, nil
	}
	return v, true, nil
}

// StringProperty resolves a property that must be a string (numbers and booleans are
// formatted as CloudFormation does). A missing property yields "".
func (r *Resolver) StringProperty(res *Resource, path string) (string, error) {
	v, ok, err := r.Property(res, path)
	if err != nil || !ok {
		return "", err
	}
	s, err := ScalarString(v)
	if err != nil {
		return "", &PropertyError{LogicalID: res.LogicalID, Type: res.Type, Property: path, Err: err}
	}
	return s, nil
}

// IntProperty resolves a property that must be an integer (a number or a numeric
// string). A missing property yields def.
func (r *Resolver) IntProperty(res *Resource, path string, def int) (int, error) {
	v, ok, err := r.Property(res, path)
	if err != nil || !ok {
		return def, err
	}
	n, err := ToInt(v)
	if err != nil {
		return def, &PropertyError{LogicalID: res.LogicalID, Type: res.Type, Property: path, Err: err}
	}
	return n, nil
}

// BoolProperty resolves a property that must be a boolean (or "true"/"false"). A
// missing property yields def.
func (r *Resolver) BoolProperty(res *Resource, path string, def bool) (bool, error) {
	v, ok, err := r.Property(res, path)
	if err != nil || !ok {
		return def, err
	}
	if b, isBool := asBool(v); isBool {
		return b, nil
	}
	return def, &PropertyError{LogicalID: res.LogicalID, Type: res.Type, Property: path, Err: fmt.Errorf("%v is not a boolean", v)}
}

// ResolveString resolves v and requires a string result.
func (r *Resolver) ResolveString(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	return ScalarString(out)
}

// Resolve evaluates every intrinsic function in v and returns the plain JSON value
// (string, float64, bool, nil, []any or map[string]any).
func (r *Resolver) Resolve(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.Resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.Resolve(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *Resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return r.Region, nil
	case "AWS::AccountId":
		return r.Account, nil
	case "AWS::Partition":
		return r.Partition, nil
	case "AWS::URLSuffix":
		return r.URLSuffix, nil
	case "AWS::StackName":
		return r.StackName, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
			r.Partition, r.Region, r.Account, r.StackName), nil
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if v, ok := r.refs[name]; ok {
		return v, nil
	}
	if p, ok := r.tmpl.Parameters[name]; ok {
		if strings.HasPrefix(p.Type, "AWS::SSM::Parameter::") {
			return nil, fmt.Errorf("Ref %s: SSM-backed parameter (%s) has no local value", name, p.Type)
		}
		if p.Default == nil {
			return nil, fmt.Errorf("Ref %s: parameter has no default value", name)
		}
		return p.Default, nil
	}
	return nil, r.missing("Ref", name)
}

func (r *Resolver) getAtt(id, attr string) (any, error) {
	if v, ok := r.attrs[id][attr]; ok {
		return v, nil
	}
	if _, known := r.attrs[id]; known {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: attribute not available locally", id, attr)
	}
	return nil, r.missing("Fn::GetAtt", id+"."+attr)
}

// missing explains why a reference to target has no local value.
func (r *Resolver) missing(fn, target string) error {
	id, _, _ := strings.Cut(target, ".")
	res, ok := r.tmpl.Resources[id]
	if !ok {
		return fmt.Errorf("%s %s: no such resource or parameter in the template", fn, target)
	}
	if res.Condition != "" {
		if c, err := r.Condition(res.Condition); err == nil && !c {
			return fmt.Errorf("%s %s: resource is not created (condition %s is false)", fn, target, res.Condition)
		}
	}
	if r.Emulated == nil || r.Emulated(res.Type) {
		return fmt.Errorf("%s %s: resource (%s) is not created yet", fn, target, res.Type)
	}
	return fmt.Errorf("%s %s: resource type %s is %w", fn, target, res.Type, ErrNotEmulated)
}
