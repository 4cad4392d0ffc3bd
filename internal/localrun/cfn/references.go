package cfn

import (
	"sort"
	"strings"
)

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
				collectSubRefs(arg, set)
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

// collectSubRefs collects the references of an Fn::Sub argument: its variables' values
// and the ${names} of its template that are not variables.
func collectSubRefs(arg any, set map[string]bool) {
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
