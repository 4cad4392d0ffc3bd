package cfnrules

import (
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/contract"
)

// pseudo lists CloudFormation's pseudo parameters, which Ref and Fn::Sub may name.
var pseudo = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// reference is one Ref, Fn::GetAtt or Fn::Sub variable found in a value.
type reference struct {
	target string // logical id, parameter or pseudo parameter
	attr   string // attribute of Fn::GetAtt ("" for Ref)
	via    string // "Ref", "Fn::GetAtt" or "Fn::Sub"
}

// references lists every reference inside v, depth first, in a stable order.
func references(v any) []reference {
	var out []reference
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if len(x) == 1 {
				if r, ok := x["Ref"].(string); ok {
					out = append(out, reference{target: r, via: "Ref"})
					return
				}
				if g, ok := x["Fn::GetAtt"]; ok {
					if id, attr := getAtt(g); id != "" {
						out = append(out, reference{target: id, attr: attr, via: "Fn::GetAtt"})
						return
					}
				}
				if s, ok := x["Fn::Sub"]; ok {
					out = append(out, subReferences(s)...)
					if l, ok := s.([]any); ok && len(l) == 2 {
						walk(l[1])
					}
					return
				}
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
	return out
}

// getAtt splits Fn::GetAtt's argument, ["Id", "Attr"] or "Id.Attr".
func getAtt(v any) (id, attr string) {
	switch x := v.(type) {
	case []any:
		if len(x) == 2 {
			id, _ = x[0].(string)
			attr, _ = x[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(x, ".")
	}
	return id, attr
}

// subReferences lists the variables of an Fn::Sub string that are not local to it.
func subReferences(v any) []reference {
	var str string
	local := map[string]bool{}
	switch x := v.(type) {
	case string:
		str = x
	case []any:
		if len(x) == 2 {
			str, _ = x[0].(string)
			if m, ok := x[1].(map[string]any); ok {
				for k := range m {
					local[k] = true
				}
			}
		}
	}
	var out []reference
	for _, name := range subVariables(str) {
		if local[name] {
			continue
		}
		id, attr, _ := strings.Cut(name, ".")
		if attr != "" && !pseudo[name] {
			out = append(out, reference{target: id, attr: attr, via: "Fn::Sub"})
		} else {
			out = append(out, reference{target: name, via: "Fn::Sub"})
		}
	}
	return out
}

// subVariables returns the ${...} names of an Fn::Sub string, skipping ${!literal}.
func subVariables(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		s = s[i+2:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return out
		}
		if name := strings.TrimSpace(s[:j]); name != "" && !strings.HasPrefix(name, "!") {
			out = append(out, name)
		}
		s = s[j+1:]
	}
}

// pseudoValue is a pseudo parameter's value in this template's environment, or a
// placeholder that matches only itself (or a wildcard) when the environment is unknown.
func (t *Template) pseudoValue(name string) string {
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

// render turns a value into the string a policy would be compared with: literals as they
// are, pseudo parameters as pseudoValue, a Ref or Fn::GetAtt of a resource as "{Ref:Id}" or
// "{GetAtt:Id.Attr}" (so two references to one resource compare equal). ok is false for a
// value it cannot render (Fn::If, Fn::Select, ...).
func (t *Template) render(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case map[string]any:
		if len(x) != 1 {
			return "", false
		}
		if r, ok := x["Ref"].(string); ok {
			if pseudo[r] {
				return t.pseudoValue(r), true
			}
			if _, isRes := t.Resources[r]; isRes {
				return "{Ref:" + r + "}", true
			}
			return "{Param:" + r + "}", true
		}
		if g, ok := x["Fn::GetAtt"]; ok {
			id, attr := getAtt(g)
			return "{GetAtt:" + id + "." + attr + "}", id != ""
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, isList := j[1].([]any)
			if !isList {
				return "", false
			}
			out := make([]string, 0, len(parts))
			for _, p := range parts {
				s, ok := t.render(p)
				if !ok {
					return "", false
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), true
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			for _, name := range subVariables(s) {
				id, attr, _ := strings.Cut(name, ".")
				var val string
				switch {
				case pseudo[name]:
					val = t.pseudoValue(name)
				case attr != "":
					val = "{GetAtt:" + id + "." + attr + "}"
				default:
					val = "{Ref:" + name + "}"
				}
				s = strings.Replace(s, "${"+name+"}", val, 1)
			}
			return s, true
		}
	}
	return "", false
}

// resourceIDs returns the logical ids of the resources a value references, sorted and
// without repeats: the identity of a function, alias or queue named through any intrinsic.
func (t *Template) resourceIDs(v any) []string {
	seen := map[string]bool{}
	var ids []string
	for _, r := range references(v) {
		if _, ok := t.Resources[r.target]; ok && !seen[r.target] {
			seen[r.target] = true
			ids = append(ids, r.target)
		}
	}
	sort.Strings(ids)
	return ids
}
