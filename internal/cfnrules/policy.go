package cfnrules

import (
	"fmt"
	"strings"
)

// request is one AWS API call, as a policy evaluation sees it.
type request struct {
	// service is the calling service principal ("cloudwatch.amazonaws.com"); "" for a role.
	service string
	// role is the calling role's rendered ARN ("" for a service principal).
	role string
	// action is the API action, e.g. "sns:Publish".
	action string
	// resource is the rendered ARN of the resource acted on.
	resource string
	// context holds the request's condition keys, by lower-case name.
	context map[string]string
}

// decision is the outcome of evaluating policies for a request.
type decision struct {
	allowed bool
	// why explains a refusal: the denying statement, or the absence of an allowing one.
	why string
}

// evaluate applies AWS's evaluation order to the statements of docs (policy documents of
// one kind, all identity or all resource policies): an explicit Deny wins, then an Allow,
// otherwise the implicit deny. A statement whose condition uses an operator the evaluator
// does not know is reported rather than guessed.
func (t *Template) evaluate(docs []any, req request) decision {
	var allow string
	for _, doc := range docs {
		d, _ := doc.(map[string]any)
		for i, raw := range list(d["Statement"]) {
			st, _ := raw.(map[string]any)
			name := fmt.Sprintf("statement %d", i+1)
			if sid, ok := st["Sid"].(string); ok {
				name = fmt.Sprintf("statement %q", sid)
			}
			applies, err := t.statementApplies(st, req)
			if err != nil {
				return decision{why: name + ": " + err.Error()}
			}
			if !applies {
				continue
			}
			switch st["Effect"] {
			case "Deny":
				return decision{why: name + " denies it"}
			case "Allow":
				allow = name
			}
		}
	}
	if allow == "" {
		return decision{why: "no statement allows it"}
	}
	return decision{allowed: true}
}

// statementApplies reports whether a statement matches the request's principal, action,
// resource and condition.
func (t *Template) statementApplies(st map[string]any, req request) (bool, error) {
	if p, ok := st["Principal"]; ok && !principalMatches(t, p, req) {
		return false, nil
	}
	if _, ok := st["NotPrincipal"]; ok {
		return false, fmt.Errorf("NotPrincipal is not evaluated")
	}
	for _, part := range []struct {
		key     string
		value   string
		fold    bool
		negated bool
	}{{"Action", req.action, true, false}, {"NotAction", req.action, true, true},
		{"Resource", req.resource, false, false}, {"NotResource", req.resource, false, true}} {
		patterns, ok := st[part.key]
		if !ok {
			continue
		}
		match, err := t.anyMatches(patterns, part.value, part.fold)
		if err != nil {
			return false, fmt.Errorf("%s: %w", part.key, err)
		}
		if match == part.negated {
			return false, nil
		}
	}
	cond, _ := st["Condition"].(map[string]any)
	return t.conditionHolds(cond, req.context)
}

func principalMatches(t *Template, p any, req request) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	for _, a := range list(m["AWS"]) {
		if a == "*" { // AnyPrincipal: every principal, services included
			return true
		}
	}
	if req.service != "" {
		for _, s := range list(m["Service"]) {
			if s == req.service {
				return true
			}
		}
		return false
	}
	for _, a := range list(m["AWS"]) {
		if s, ok := t.render(a); ok && (s == "*" || s == req.role) {
			return true
		}
	}
	return false
}

// anyMatches reports whether one of the patterns (a string or a list, intrinsics rendered)
// matches value; actions compare case-insensitively. A pattern that cannot be rendered
// (Fn::If, Fn::Select, ...) is an error: guessing could pass a policy AWS would refuse.
func (t *Template) anyMatches(patterns any, value string, fold bool) (bool, error) {
	for _, p := range list(patterns) {
		s, ok := t.render(p)
		if !ok {
			return false, fmt.Errorf("pattern %v cannot be evaluated", p)
		}
		if fold {
			s, value = strings.ToLower(s), strings.ToLower(value)
		}
		if glob(s, value) {
			return true, nil
		}
	}
	return false, nil
}

// conditionHolds evaluates a Condition block: every operator and every key must hold; a
// key holds when any of its values matches. A key absent from the request fails, except
// under a negated operator, Null, an ...IfExists operator or ForAllValues (AWS's documented
// rules); under ForAnyValue it fails even negated. Request keys are single-valued here.
func (t *Template) conditionHolds(cond map[string]any, ctx map[string]string) (bool, error) {
	for _, op := range keys(cond) {
		block, _ := cond[op].(map[string]any)
		forAll, forAny := strings.HasPrefix(op, "ForAllValues:"), strings.HasPrefix(op, "ForAnyValue:")
		base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
		ifExists := strings.HasSuffix(base, "IfExists")
		base = strings.TrimSuffix(base, "IfExists")
		negated := strings.Contains(base, "Not")
		if !knownOperators[strings.Replace(base, "Not", "", 1)] {
			return false, fmt.Errorf("condition operator %s is not evaluated", op)
		}
		for _, key := range keys(block) {
			got, present := ctx[strings.ToLower(key)]
			var ok bool
			switch {
			case base == "Null":
				want := false
				for _, v := range list(block[key]) {
					s, _ := t.render(v)
					want = want || strings.EqualFold(s, "true")
				}
				ok = want == !present
			case !present && forAll:
				ok = true // every value of an empty set matches (AWS's documented rule)
			case !present && forAny:
				ok = false // no value of an empty set matches, negated operators included
			case !present:
				ok = ifExists || negated
			default:
				match, err := t.matchesAny(base, block[key], got)
				if err != nil {
					return false, err
				}
				ok = match != negated
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

// knownOperators are the condition operators evaluated (each also in its Not form).
var knownOperators = map[string]bool{
	"StringEquals": true, "StringEqualsIgnoreCase": true, "StringLike": true,
	"ArnEquals": true, "ArnLike": true, "Bool": true, "Null": true,
}

// matchesAny compares a context value with a condition's values under a (non-negated form
// of an) operator.
func (t *Template) matchesAny(op string, values any, got string) (bool, error) {
	op = strings.Replace(op, "Not", "", 1)
	for _, v := range list(values) {
		want, ok := t.render(v)
		if !ok {
			return false, fmt.Errorf("condition value %v cannot be evaluated", v)
		}
		var m bool
		switch op {
		case "StringEquals", "ArnEquals":
			m = want == got
			if op == "ArnEquals" {
				m = glob(want, got)
			}
		case "StringEqualsIgnoreCase":
			m = strings.EqualFold(want, got)
		case "StringLike", "ArnLike":
			m = glob(want, got)
		case "Bool":
			m = strings.EqualFold(want, got)
		default:
			return false, fmt.Errorf("condition operator %s is not evaluated", op)
		}
		if m {
			return true, nil
		}
	}
	return false, nil
}

// glob matches value against an IAM pattern: '*' any run of characters, '?' one.
func glob(pattern, value string) bool {
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
