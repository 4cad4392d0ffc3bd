package cfn

import "fmt"

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

// evalCondition evaluates a condition expression (Condition, Fn::Equals, Fn::Not,
// Fn::And, Fn::Or, or any other value, resolved).
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
			return r.equals(arg)
		case "Fn::Not", "Fn::And", "Fn::Or":
			return r.logical(fn, arg)
		}
	}
	return r.Resolve(expr)
}

// equals evaluates Fn::Equals [a, b]: the two values formatted as strings are equal.
func (r *Resolver) equals(arg any) (any, error) {
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
	as, aerr := ScalarString(a)
	bs, berr := ScalarString(b)
	return aerr == nil && berr == nil && as == bs, nil
}

// logical evaluates Fn::Not, Fn::And or Fn::Or over a list of conditions.
func (r *Resolver) logical(fn string, arg any) (any, error) {
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
