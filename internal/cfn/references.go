package cfn

import (
	"sort"
	"strings"
)

// pseudo lists CloudFormation's pseudo parameters, which Ref and Fn::Sub may name.
var pseudo = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// IsPseudo reports whether name is one of CloudFormation's pseudo parameters.
func IsPseudo(name string) bool { return pseudo[name] }

// Reference is one Ref, Fn::GetAtt or Fn::Sub variable found in a value.
type Reference struct {
	// Target is the logical id, parameter or pseudo parameter referred to.
	Target string
	// Attr is the attribute of an Fn::GetAtt (or of a ${Id.Attr} in Fn::Sub); "" for a Ref.
	Attr string
	// Via is "Ref", "Fn::GetAtt" or "Fn::Sub".
	Via string
}

// ReferencesIn lists every reference inside v, depth first, in a stable order.
func ReferencesIn(v any) []Reference {
	var out []Reference
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
					out = append(out, Reference{Target: r, Via: "Ref"})
					return
				}
				if g, ok := x["Fn::GetAtt"]; ok {
					if id, attr, err := getAttArgs(g); err == nil {
						out = append(out, Reference{Target: id, Attr: attr, Via: "Fn::GetAtt"})
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

// References returns the logical ids (resources or parameters) that v refers to through
// Ref, Fn::GetAtt or Fn::Sub, sorted, without repeats and without pseudo parameters.
func References(v any) []string {
	set := map[string]bool{}
	for _, r := range ReferencesIn(v) {
		if !strings.HasPrefix(r.Target, "AWS::") {
			set[r.Target] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ResourceIDs returns the logical ids of the template's resources that v references,
// sorted and without repeats: the identity of a resource named through any intrinsic.
func (t *Template) ResourceIDs(v any) []string {
	var ids []string
	for _, id := range References(v) {
		if _, ok := t.Resources[id]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// subReferences lists the variables of an Fn::Sub argument that are not local to it.
func subReferences(v any) []Reference {
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
	var out []Reference
	for _, name := range subNames(str) {
		if local[name] {
			continue
		}
		id, attr, _ := strings.Cut(name, ".")
		if attr != "" && !pseudo[name] {
			out = append(out, Reference{Target: id, Attr: attr, Via: "Fn::Sub"})
		} else {
			out = append(out, Reference{Target: name, Via: "Fn::Sub"})
		}
	}
	return out
}

// subNames returns the ${...} names of an Fn::Sub string, skipping ${!literal}.
func subNames(s string) []string {
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
