package localstack

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

func (e *PropertyError) Error() string {
	return fmt.Sprintf("resource %s (%s), property %s: %v", e.LogicalID, e.Type, e.Property, e.Err)
}

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
	raw, ok := lookupPath(res.Properties, path)
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
	s, err := scalarString(v)
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
	n, err := toInt(v)
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
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if p, perr := strconv.ParseBool(b); perr == nil {
			return p, nil
		}
	}
	return def, &PropertyError{LogicalID: res.LogicalID, Type: res.Type, Property: path, Err: fmt.Errorf("%v is not a boolean", v)}
}

func lookupPath(props map[string]any, path string) (any, bool) {
	var cur any = props
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// ResolveString resolves v and requires a string result.
func (r *Resolver) ResolveString(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	return scalarString(out)
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

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref takes a name, got %v", arg)
		}
		return r.ref(name)
	case "Fn::GetAtt":
		id, attr, err := getAttArgs(arg)
		if err != nil {
			return nil, err
		}
		return r.getAtt(id, attr)
	case "Fn::Join":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join takes [delimiter, [values]]")
		}
		delim, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Join delimiter must be a string")
		}
		list, err := r.resolveList(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		parts := make([]string, 0, len(list))
		for _, e := range list {
			s, err := scalarString(e)
			if err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select takes [index, [values]]")
		}
		iv, err := r.Resolve(args[0])
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index: %w", err)
		}
		idx, err := toInt(iv)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index: %w", err)
		}
		list, err := r.resolveList(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: %w", err)
		}
		if idx < 0 || idx >= len(list) {
			return nil, fmt.Errorf("Fn::Select index %d out of range (%d values)", idx, len(list))
		}
		return list[idx], nil
	case "Fn::Split":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Split takes [delimiter, string]")
		}
		delim, ok := args[0].(string)
		if !ok || delim == "" {
			return nil, fmt.Errorf("Fn::Split delimiter must be a non-empty string")
		}
		s, err := r.ResolveString(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Split: %w", err)
		}
		parts := strings.Split(s, delim)
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes [condition, value if true, value if false]")
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::If condition must be a condition name")
		}
		c, err := r.Condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return r.Resolve(args[1])
		}
		return r.Resolve(args[2])
	case "Fn::FindInMap":
		args, ok := arg.([]any)
		if !ok || len(args) < 3 {
			return nil, fmt.Errorf("Fn::FindInMap takes [map, top-level key, second-level key]")
		}
		keys := make([]string, 3)
		for i := range keys {
			s, err := r.ResolveString(args[i])
			if err != nil {
				return nil, fmt.Errorf("Fn::FindInMap: %w", err)
			}
			keys[i] = s
		}
		v, ok := r.tmpl.Mappings[keys[0]][keys[1]][keys[2]]
		if !ok {
			if len(args) == 4 {
				if m, ok := args[3].(map[string]any); ok {
					if d, ok := m["DefaultValue"]; ok {
						return r.Resolve(d)
					}
				}
			}
			return nil, fmt.Errorf("Fn::FindInMap: no %s.%s.%s in Mappings", keys[0], keys[1], keys[2])
		}
		return r.Resolve(v)
	case "Fn::Base64":
		s, err := r.ResolveString(arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::Base64: %w", err)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		region, err := r.ResolveString(arg)
		if err != nil {
			return nil, fmt.Errorf("Fn::GetAZs: %w", err)
		}
		if region == "" {
			region = r.Region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return r.evalCondition(map[string]any{fn: arg})
	default:
		return nil, fmt.Errorf("%s is not supported locally", fn)
	}
}

func getAttArgs(arg any) (id, attr string, err error) {
	switch a := arg.(type) {
	case string:
		id, attr, ok := strings.Cut(a, ".")
		if !ok {
			return "", "", fmt.Errorf("Fn::GetAtt %q: want Resource.Attribute", a)
		}
		return id, attr, nil
	case []any:
		if len(a) == 2 {
			id, ok1 := a[0].(string)
			attr, ok2 := a[1].(string)
			if ok1 && ok2 {
				return id, attr, nil
			}
		}
	}
	return "", "", fmt.Errorf("Fn::GetAtt takes [resource, attribute], got %v", arg)
}

func (r *Resolver) resolveList(v any) ([]any, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return nil, err
	}
	list, ok := out.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list, got %v", out)
	}
	return list, nil
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
	if emulatedTypes[res.Type] {
		return fmt.Errorf("%s %s: resource (%s) is not created yet", fn, target, res.Type)
	}
	return fmt.Errorf("%s %s: resource type %s is %w", fn, target, res.Type, ErrNotEmulated)
}

// sub evaluates Fn::Sub (a string, or [string, {variables}]).
func (r *Resolver) sub(arg any) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, {variables}]")
		}
		s, ok := a[0].(string)
		m, ok2 := a[1].(map[string]any)
		if !ok || !ok2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, {variables}]")
		}
		tmpl = s
		for k, v := range m {
			rv, err := r.Resolve(v)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = rv
		}
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string or [string, {variables}]")
	}
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		rest := tmpl[i+2:]
		if strings.HasPrefix(rest, "!") { // ${!Literal} → ${Literal}
			j := strings.Index(rest, "}")
			if j < 0 {
				return nil, fmt.Errorf("Fn::Sub: unterminated ${! escape")
			}
			b.WriteString("${" + rest[1:j+1])
			tmpl = rest[j+1:]
			continue
		}
		j := strings.Index(rest, "}")
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: unterminated ${")
		}
		name := strings.TrimSpace(rest[:j])
		var v any
		var err error
		if vv, ok := vars[name]; ok {
			v = vv
		} else if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, err := scalarString(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
		tmpl = rest[j+1:]
	}
	return b.String(), nil
}

// Condition evaluates the named condition of the template.
func (r *Resolver) Condition(name string) (bool, error) {
	if v, ok := r.conditions[name]; ok {
		return v, nil
	}
	expr, ok := r.tmpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s in the template", name)
	}
	if r.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	r.evaluating[name] = true
	defer delete(r.evaluating, name)
	v, err := r.evalCondition(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s does not evaluate to a boolean", name)
	}
	r.conditions[name] = b
	return b, nil
}

func (r *Resolver) evalCondition(expr any) (any, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return r.Resolve(expr)
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return nil, fmt.Errorf("Condition takes a name")
			}
			return r.Condition(name)
		case "Fn::Equals":
			args, ok := arg.([]any)
			if !ok || len(args) != 2 {
				return nil, fmt.Errorf("Fn::Equals takes two values")
			}
			a, err := r.evalCondition(args[0])
			if err != nil {
				return nil, err
			}
			b, err := r.evalCondition(args[1])
			if err != nil {
				return nil, err
			}
			as, aerr := scalarString(a)
			bs, berr := scalarString(b)
			return aerr == nil && berr == nil && as == bs, nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			args, ok := arg.([]any)
			if !ok || len(args) == 0 {
				return nil, fmt.Errorf("%s takes a list of conditions", fn)
			}
			vals := make([]bool, len(args))
			for i, a := range args {
				v, err := r.evalCondition(a)
				if err != nil {
					return nil, err
				}
				b, ok := v.(bool)
				if !ok {
					return nil, fmt.Errorf("%s: %v is not a condition", fn, a)
				}
				vals[i] = b
			}
			switch fn {
			case "Fn::Not":
				return !vals[0], nil
			case "Fn::And":
				for _, v := range vals {
					if !v {
						return false, nil
					}
				}
				return true, nil
			default:
				for _, v := range vals {
					if v {
						return true, nil
					}
				}
				return false, nil
			}
		}
	}
	return r.Resolve(expr)
}

// scalarString formats a resolved scalar as CloudFormation does in strings.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	default:
		return "", fmt.Errorf("expected a string, got %T %v", v, v)
	}
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int(x), nil
	case int:
		return x, nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%v is not an integer", v)
	}
}

// References returns the logical ids (resources or parameters) that v refers to through
// Ref, Fn::GetAtt or Fn::Sub, sorted and without pseudo parameters.
func References(v any) []string {
	set := map[string]bool{}
	collectRefs(v, set)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func collectRefs(v any, set map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if name, ok := x["Ref"].(string); ok {
				if !strings.HasPrefix(name, "AWS::") {
					set[name] = true
				}
				return
			}
			if arg, ok := x["Fn::GetAtt"]; ok {
				if id, _, err := getAttArgs(arg); err == nil {
					set[id] = true
				}
				return
			}
			if arg, ok := x["Fn::Sub"]; ok {
				var tmpl string
				vars := map[string]bool{}
				switch a := arg.(type) {
				case string:
					tmpl = a
				case []any:
					if len(a) == 2 {
						tmpl, _ = a[0].(string)
						if m, ok := a[1].(map[string]any); ok {
							for k, vv := range m {
								vars[k] = true
								collectRefs(vv, set)
							}
						}
					}
				}
				for _, name := range subNames(tmpl) {
					id, _, _ := strings.Cut(name, ".")
					if !vars[name] && !strings.HasPrefix(id, "AWS::") {
						set[id] = true
					}
				}
				return
			}
		}
		for _, e := range x {
			collectRefs(e, set)
		}
	case []any:
		for _, e := range x {
			collectRefs(e, set)
		}
	}
}

func subNames(tmpl string) []string {
	var names []string
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			return names
		}
		rest := tmpl[i+2:]
		j := strings.Index(rest, "}")
		if j < 0 {
			return names
		}
		if !strings.HasPrefix(rest, "!") {
			names = append(names, strings.TrimSpace(rest[:j]))
		}
		tmpl = rest[j+1:]
	}
}
