package cfn

import (
	"strings"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/iam"
)

// PseudoValue is a pseudo parameter's value in this template's environment, or a
// placeholder ("${AWS::AccountId}") that matches only itself (or a wildcard) when the
// environment is unknown.
func (t *Template) PseudoValue(name string) string {
	switch name {
	case "AWS::Partition":
		return contract.Partition(t.Region)
	case "AWS::URLSuffix":
		if strings.HasPrefix(t.Region, "cn-") {
			return "amazonaws.com.cn"
		}
		return "amazonaws.com"
	case "AWS::AccountId":
		if t.Account != "" {
			return t.Account
		}
	case "AWS::Region":
		if t.Region != "" {
			return t.Region
		}
	}
	return "${" + name + "}"
}

// Symbolic turns a value into the string a policy would be compared with before anything
// exists: literals as they are, pseudo parameters as PseudoValue, a Ref or Fn::GetAtt of a
// resource as "{Ref:Id}" or "{GetAtt:Id.Attr}" (so two references to one resource compare
// equal), a parameter as "{Param:Name}", Fn::Join and Fn::Sub of those. ok is false for a
// value it cannot render (Fn::If, Fn::Select, ...).
func (t *Template) Symbolic(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case map[string]any:
		if len(x) != 1 {
			return "", false
		}
		if r, ok := x["Ref"].(string); ok {
			return t.symbolicRef(r), true
		}
		if g, ok := x["Fn::GetAtt"]; ok {
			id, attr, err := getAttArgs(g)
			return "{GetAtt:" + id + "." + attr + "}", err == nil
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			return t.symbolicJoin(j)
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			for _, name := range subNames(s) {
				id, attr, _ := strings.Cut(name, ".")
				val := t.symbolicRef(name)
				if attr != "" && !pseudo[name] {
					val = "{GetAtt:" + id + "." + attr + "}"
				}
				s = strings.Replace(s, "${"+name+"}", val, 1)
			}
			return s, true
		}
	}
	return "", false
}

// symbolicRef renders a Ref (or an Fn::Sub variable without an attribute).
func (t *Template) symbolicRef(name string) string {
	if pseudo[name] {
		return t.PseudoValue(name)
	}
	if _, isRes := t.Resources[name]; isRes {
		return "{Ref:" + name + "}"
	}
	return "{Param:" + name + "}"
}

// symbolicJoin renders the arguments of an Fn::Join.
func (t *Template) symbolicJoin(j []any) (string, bool) {
	sep, _ := j[0].(string)
	parts, isList := j[1].([]any)
	if !isList {
		return "", false
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		s, ok := t.Symbolic(p)
		if !ok {
			return "", false
		}
		out = append(out, s)
	}
	return strings.Join(out, sep), true
}

// Evaluate applies AWS's policy evaluation (package iam) to docs for req, with this
// template's intrinsics rendered by Symbolic.
func (t *Template) Evaluate(docs []any, req iam.Request) iam.Decision {
	return iam.Evaluator{Render: t.Symbolic}.Evaluate(docs, req)
}
