// Package iam evaluates AWS IAM policy documents for one request, in AWS's documented
// order: an explicit Deny in any statement that applies wins; otherwise an Allow that applies
// allows; otherwise the request is implicitly denied. A statement applies when its principal
// (resource policies), action or NotAction, resource or NotResource, and every condition
// match; actions compare case-insensitively, '*' and '?' are wildcards. The condition
// operators are String*, Arn*, Bool and Null with their Not, IfExists and
// ForAllValues/ForAnyValue forms, following AWS's rules for keys absent from the request;
// any other operator, or a value that cannot be rendered, is reported, never guessed.
//
// Values may still hold CloudFormation intrinsics: the caller's Render turns each into the
// string to compare (internal/cfnrules renders references symbolically; local mode would
// resolve them). Evaluator{} compares plain strings only.
package iam

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// UnexercisedGrantsMetadata is the template Metadata key, on an AWS::IAM::Policy resource,
// of the grants a local run cannot exercise: a map from action to the reason, written next
// to the grant (constructs/alarmedfunction justifies the X-Ray grants of active tracing).
// Local mode's least-privilege report lists such an action as justified, not unused. It is
// alarmedfunction.UnexercisedGrantsMetadata (the constructs carry no payhook name; a test
// ties the two).
const UnexercisedGrantsMetadata = "least-privilege:unexercised-grants"

// Request is one AWS API call, as a policy evaluation sees it.
type Request struct {
	// Service is the calling service principal ("cloudwatch.amazonaws.com"); "" for a role.
	Service string
	// Role is the calling role's ARN ("" for a service principal).
	Role string
	// Action is the API action, e.g. "sns:Publish".
	Action string
	// Resource is the ARN of the resource acted on.
	Resource string
	// Context holds the request's condition keys, by lower-case name.
	Context map[string]string
}

// LambdaSQSPollActions are the SQS actions Lambda's event source poller calls with the
// function's role, as AWS's managed policy AWSLambdaSQSQueueExecutionRole lists them.
var LambdaSQSPollActions = []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}

// Decision is the outcome of evaluating policies for a request.
type Decision struct {
	// Allowed is true when a statement allows the request and none denies it.
	Allowed bool
	// Why explains a refusal: the denying statement, the absence of an allowing one, or what
	// could not be evaluated.
	Why string
	// ExplicitDeny is true when a Deny statement applied (or a statement could not be
	// evaluated, which refuses as firmly): no other policy can allow the request then.
	ExplicitDeny bool
}

// Evaluator evaluates policy documents; Render turns a policy value (a string or an
// intrinsic) into the string compared, ok false when it cannot (nil: plain strings only).
type Evaluator struct {
	Render func(v any) (string, bool)
}

func (e Evaluator) render(v any) (string, bool) {
	if e.Render != nil {
		return e.Render(v)
	}
	s, ok := v.(string)
	return s, ok
}

// Values returns a policy element as a list: a list as is, nil as empty, anything else (a
// string, an intrinsic) as one element, as IAM reads Action, Resource, Statement and the like.
func Values(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// Evaluate applies AWS's evaluation order to the statements of docs (policy documents of
// one kind, all identity or all resource policies): an explicit Deny wins, then an Allow,
// otherwise the implicit deny. A statement that cannot be evaluated (an unknown condition
// operator, a value that cannot be rendered) makes the request refused, with the reason.
func (e Evaluator) Evaluate(docs []any, req Request) Decision {
	var allow string
	for _, doc := range docs {
		d, _ := doc.(map[string]any)
		for i, raw := range Values(d["Statement"]) {
			st, _ := raw.(map[string]any)
			name := fmt.Sprintf("statement %d", i+1)
			if sid, ok := st["Sid"].(string); ok {
				name = fmt.Sprintf("statement %q", sid)
			}
			applies, err := e.statementApplies(st, req)
			if err != nil {
				return Decision{Why: name + ": " + err.Error(), ExplicitDeny: true}
			}
			if !applies {
				continue
			}
			switch st["Effect"] {
			case "Deny":
				return Decision{Why: name + " denies it", ExplicitDeny: true}
			case "Allow":
				allow = name
			}
		}
	}
	if allow == "" {
		return Decision{Why: "no statement allows it"}
	}
	return Decision{Allowed: true}
}

// statementApplies reports whether a statement matches the request's principal, action,
// resource and condition.
func (e Evaluator) statementApplies(st map[string]any, req Request) (bool, error) {
	if p, ok := st["Principal"]; ok && !e.principalMatches(p, req, st["Effect"] == "Deny") {
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
	}{{"Action", req.Action, true, false}, {"NotAction", req.Action, true, true},
		{"Resource", req.Resource, false, false}, {"NotResource", req.Resource, false, true}} {
		patterns, ok := st[part.key]
		if !ok {
			continue
		}
		match, err := e.anyMatches(patterns, part.value, part.fold)
		if err != nil {
			return false, fmt.Errorf("%s: %w", part.key, err)
		}
		if match == part.negated {
			return false, nil
		}
	}
	cond, _ := st["Condition"].(map[string]any)
	return e.conditionHolds(cond, req.Context)
}

// principalMatches reports whether a statement's Principal names the request's caller. In a
// Deny, an account ("123456789012" or its root ARN) names every principal of that account,
// as AWS applies it; in an Allow it only delegates to the account's identity policies, which
// the caller evaluates separately, so it does not match a role here.
func (e Evaluator) principalMatches(p any, req Request, deny bool) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	for _, a := range Values(m["AWS"]) {
		if a == "*" { // AnyPrincipal: every principal, services included
			return true
		}
	}
	if req.Service != "" {
		for _, s := range Values(m["Service"]) {
			if s == req.Service {
				return true
			}
		}
		return false
	}
	for _, a := range Values(m["AWS"]) {
		s, ok := e.render(a)
		if ok && (s == "*" || s == req.Role || deny && sameAccount(s, req.Role)) {
			return true
		}
	}
	return false
}

// sameAccount reports whether principal is the account ("123456789012" or
// "arn:<partition>:iam::123456789012:root") of the role ARN.
func sameAccount(principal, role string) bool {
	parts := strings.Split(role, ":")
	if len(parts) < 6 || parts[4] == "" {
		return false
	}
	account := parts[4]
	return principal == account || strings.HasPrefix(principal, "arn:") && strings.HasSuffix(principal, ":iam::"+account+":root")
}

// anyMatches reports whether one of the patterns (a string or a list, intrinsics rendered)
// matches value; actions compare case-insensitively. A pattern that cannot be rendered
// (Fn::If, Fn::Select, ...) is an error: guessing could pass a policy AWS would refuse.
func (e Evaluator) anyMatches(patterns any, value string, fold bool) (bool, error) {
	for _, p := range Values(patterns) {
		s, ok := e.render(p)
		if !ok {
			return false, fmt.Errorf("pattern %v cannot be evaluated", p)
		}
		if fold {
			s, value = strings.ToLower(s), strings.ToLower(value)
		}
		if Glob(s, value) {
			return true, nil
		}
	}
	return false, nil
}

// conditionHolds evaluates a Condition block: every operator and every key must hold; a
// key holds when any of its values matches. A key absent from the request fails, except
// under a negated operator, Null, an ...IfExists operator or ForAllValues (AWS's documented
// rules); under ForAnyValue it fails even negated. Request keys are single-valued here.
func (e Evaluator) conditionHolds(cond map[string]any, ctx map[string]string) (bool, error) {
	for _, op := range slices.Sorted(maps.Keys(cond)) {
		block, _ := cond[op].(map[string]any)
		forAll, forAny := strings.HasPrefix(op, "ForAllValues:"), strings.HasPrefix(op, "ForAnyValue:")
		base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
		ifExists := strings.HasSuffix(base, "IfExists")
		base = strings.TrimSuffix(base, "IfExists")
		negated := strings.Contains(base, "Not")
		if !knownOperators[strings.Replace(base, "Not", "", 1)] {
			return false, fmt.Errorf("condition operator %s is not evaluated", op)
		}
		for _, key := range slices.Sorted(maps.Keys(block)) {
			got, present := ctx[strings.ToLower(key)]
			var ok bool
			switch {
			case base == "Null":
				want := false
				for _, v := range Values(block[key]) {
					s, _ := e.render(v)
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
				match, err := e.matchesAny(base, block[key], got)
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
func (e Evaluator) matchesAny(op string, values any, got string) (bool, error) {
	op = strings.Replace(op, "Not", "", 1)
	for _, v := range Values(values) {
		want, ok := e.render(v)
		if !ok {
			return false, fmt.Errorf("condition value %v cannot be evaluated", v)
		}
		var m bool
		switch op {
		case "StringEquals":
			m = want == got
		case "StringEqualsIgnoreCase":
			m = strings.EqualFold(want, got)
		case "StringLike", "ArnLike", "ArnEquals": // ArnEquals matches wildcards as ArnLike does
			m = Glob(want, got)
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

// Glob matches value against an IAM pattern: '*' any run of characters, '?' one.
func Glob(pattern, value string) bool {
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
