package cfn

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// intrinsic evaluates the intrinsic function fn with its argument.
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
		return r.join(arg)
	case "Fn::Select":
		return r.selectFn(arg)
	case "Fn::Split":
		return r.split(arg)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::If":
		return r.ifFn(arg)
	case "Fn::FindInMap":
		return r.findInMap(arg)
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

// join evaluates Fn::Join [delimiter, [values]].
func (r *Resolver) join(arg any) (any, error) {
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
		s, err := ScalarString(e)
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, delim), nil
}

// selectFn evaluates Fn::Select [index, [values]].
func (r *Resolver) selectFn(arg any) (any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return nil, fmt.Errorf("Fn::Select takes [index, [values]]")
	}
	iv, err := r.Resolve(args[0])
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index: %w", err)
	}
	idx, err := ToInt(iv)
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
}

// split evaluates Fn::Split [delimiter, string].
func (r *Resolver) split(arg any) (any, error) {
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
}

// ifFn evaluates Fn::If [condition, value if true, value if false].
func (r *Resolver) ifFn(arg any) (any, error) {
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
}

// findInMap evaluates Fn::FindInMap [map, top-level key, second-level key(, {DefaultValue})].
func (r *Resolver) findInMap(arg any) (any, error) {
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
}

// sub evaluates Fn::Sub (a string, or [string, {variables}]).
func (r *Resolver) sub(arg any) (any, error) {
	tmpl, vars, err := r.subArgs(arg)
	if err != nil {
		return nil, err
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
		j := strings.Index(rest, "}")
		if strings.HasPrefix(rest, "!") { // ${!Literal} → ${Literal}
			if j < 0 {
				return nil, fmt.Errorf("Fn::Sub: unterminated ${! escape")
			}
			b.WriteString("${" + rest[1:j+1])
			tmpl = rest[j+1:]
			continue
		}
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: unterminated ${")
		}
		s, err := r.subVariable(strings.TrimSpace(rest[:j]), vars)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
		tmpl = rest[j+1:]
	}
	return b.String(), nil
}

// subArgs splits the argument of Fn::Sub into the template and its resolved variables.
func (r *Resolver) subArgs(arg any) (string, map[string]any, error) {
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		return a, vars, nil
	case []any:
		if len(a) != 2 {
			break
		}
		s, ok := a[0].(string)
		m, ok2 := a[1].(map[string]any)
		if !ok || !ok2 {
			break
		}
		for k, v := range m {
			rv, err := r.Resolve(v)
			if err != nil {
				return "", nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = rv
		}
		return s, vars, nil
	}
	return "", nil, fmt.Errorf("Fn::Sub takes a string or [string, {variables}]")
}

// subVariable resolves ${name} of Fn::Sub: a variable, Resource.Attribute, or a Ref.
func (r *Resolver) subVariable(name string, vars map[string]any) (string, error) {
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
		return "", fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
	}
	s, err := ScalarString(v)
	if err != nil {
		return "", fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
	}
	return s, nil
}
