package cfnrules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
)

// CloudFormation's quotas per template (AWS CloudFormation User Guide, "Understand
// CloudFormation quotas").
const (
	MaxResources     = 500
	MaxOutputs       = 200
	MaxParameters    = 200
	MaxMappings      = 200
	MaxTemplateBytes = 1 << 20 // a template body uploaded to S3, as CDK does for large ones
	maxLogicalID     = 255
)

// Rule names, the prefix of every finding.
const (
	RuleCycle     = "dependency-cycle"
	RuleReference = "reference"
	RuleLogicalID = "logical-id"
	RuleQuota     = "quota"
	RuleAlarm     = "alarm-delivery"
	RuleInvoke    = "invoke-permission"
)

// Finding is one rule a template breaks.
type Finding struct {
	// Rule is one of the Rule* names.
	Rule string
	// Message says what is wrong, naming the logical ids and construct paths involved.
	Message string
}

func (f Finding) String() string { return f.Rule + ": " + f.Message }

// Report is the result of checking one template.
type Report struct {
	// Template is the template's name.
	Template string
	// File is the template's path ("" when it was not read from a file).
	File string
	// Resources, Outputs, Parameters, Mappings and Bytes are the template's figures,
	// compared with the Max* quotas.
	Resources, Outputs, Parameters, Mappings, Bytes int
	// Findings are the broken rules, sorted; empty when the template passes.
	Findings []Finding
}

// Quotas prints the template's figures against CloudFormation's quotas.
func (r Report) Quotas() string {
	return fmt.Sprintf("%s: %d/%d resources, %d/%d outputs, %d/%d parameters, %d/%d mappings, %d/%d bytes",
		r.Template, r.Resources, MaxResources, r.Outputs, MaxOutputs, r.Parameters, MaxParameters,
		r.Mappings, MaxMappings, r.Bytes, MaxTemplateBytes)
}

// Err returns nil when the template passes, else an error listing every finding.
func (r Report) Err() error {
	if len(r.Findings) == 0 {
		return nil
	}
	lines := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		lines = append(lines, "  - "+f.String())
	}
	name := r.Template
	if r.File != "" {
		name += " (" + r.File + ")"
	}
	return fmt.Errorf("template %s breaks %d CloudFormation rule(s):\n%s", name, len(r.Findings), strings.Join(lines, "\n"))
}

// Check applies every rule to m.
func Check(m *cfn.Template) Report {
	t := &Template{m}
	r := Report{
		Template: t.Name, Resources: len(t.Resources), Outputs: len(t.Outputs),
		Parameters: len(t.Parameters), Mappings: len(t.Mappings), Bytes: t.Size,
	}
	for _, rule := range []func(*Template) []Finding{
		checkLogicalIDs, checkQuotas, checkReferences, checkCycles, checkAlarmDelivery, checkInvokePermissions,
	} {
		r.Findings = append(r.Findings, rule(t)...)
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		if r.Findings[i].Rule != r.Findings[j].Rule {
			return r.Findings[i].Rule < r.Findings[j].Rule
		}
		return r.Findings[i].Message < r.Findings[j].Message
	})
	return r
}

var alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)

func checkLogicalIDs(t *Template) []Finding {
	var out []Finding
	for _, section := range []struct {
		name string
		ids  []string
	}{{"resource", slices.Sorted(maps.Keys(t.Resources))}, {"output", slices.Sorted(maps.Keys(t.Outputs))}, {"parameter", slices.Sorted(maps.Keys(t.Parameters))}, {"condition", slices.Sorted(maps.Keys(t.Conditions))}} {
		for _, id := range section.ids {
			if !alphanumeric.MatchString(id) || len(id) > maxLogicalID {
				out = append(out, Finding{RuleLogicalID, fmt.Sprintf("%s logical id %q must be 1-%d letters and digits", section.name, id, maxLogicalID)})
			}
		}
	}
	return out
}

func checkQuotas(t *Template) []Finding {
	var out []Finding
	for _, q := range []struct {
		what       string
		got, limit int
	}{
		{"resources", len(t.Resources), MaxResources}, {"outputs", len(t.Outputs), MaxOutputs},
		{"parameters", len(t.Parameters), MaxParameters}, {"mappings", len(t.Mappings), MaxMappings},
		{"bytes of template body", t.Size, MaxTemplateBytes},
	} {
		if q.got > q.limit {
			out = append(out, Finding{RuleQuota, fmt.Sprintf("%d %s, over CloudFormation's quota of %d", q.got, q.what, q.limit)})
		}
	}
	return out
}

// checkReferences reports references to nothing: a Ref to no resource, parameter or pseudo
// parameter, an Fn::GetAtt or DependsOn to no resource, anywhere in the template.
func checkReferences(t *Template) []Finding {
	var out []Finding
	bad := func(where string, ref cfn.Reference) {
		out = append(out, Finding{RuleReference, fmt.Sprintf("%s: %s %s names nothing in the template", where, ref.Via, ref.Target)})
	}
	check := func(where string, v any) {
		for _, ref := range cfn.ReferencesIn(v) {
			_, isRes := t.Resources[ref.Target]
			_, isParam := t.Parameters[ref.Target]
			switch {
			case isRes:
			case ref.Attr == "" && (isParam || cfn.IsPseudo(ref.Target)):
			default:
				bad(where, ref)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		check(t.Describe(id), []any{r.Properties, r.UpdatePolicy, r.CreationPolicy, r.Metadata})
		for _, d := range r.DependsOn {
			if t.Resources[d] == nil {
				bad(t.Describe(id), cfn.Reference{Target: d, Via: "DependsOn"})
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Outputs)) {
		check("output "+id, t.Outputs[id])
	}
	return out
}

// edge is a dependency of one resource on another, with where it comes from.
type edge struct {
	to, via string
}

// dependencies returns, for each resource, the resources CloudFormation must create first.
func (t *Template) dependencies() map[string][]edge {
	deps := map[string][]edge{}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		seen := map[string]bool{}
		add := func(to, via string) {
			if _, ok := t.Resources[to]; ok && !seen[to] {
				seen[to] = true
				deps[id] = append(deps[id], edge{to, via})
			}
		}
		for _, d := range r.DependsOn {
			add(d, "DependsOn")
		}
		parts := []struct {
			name string
			v    any
		}{{"UpdatePolicy", r.UpdatePolicy}, {"CreationPolicy", r.CreationPolicy}, {"Metadata", r.Metadata}}
		for _, k := range slices.Sorted(maps.Keys(r.Properties)) {
			parts = append(parts, struct {
				name string
				v    any
			}{"Properties." + k, r.Properties[k]})
		}
		for _, part := range parts {
			for _, ref := range cfn.ReferencesIn(part.v) {
				add(ref.Target, part.name+" "+ref.Via)
			}
		}
	}
	return deps
}

// step is one resource on a dependency path and the attribute that leads to the next.
type step struct {
	id, via string
}

// checkCycles reports the cycle closed by each back edge the depth-first search meets, as
// the path CloudFormation cannot order: a template with any cycle gets at least one finding
// (not necessarily one per elementary cycle).
func checkCycles(t *Template) []Finding {
	deps := t.dependencies()
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []step
	var out []Finding
	var visit func(id string)
	visit = func(id string) {
		state[id] = onStack
		for _, e := range deps[id] {
			switch state[e.to] {
			case unvisited:
				stack = append(stack, step{id: id, via: e.via})
				visit(e.to)
				stack = stack[:len(stack)-1]
			case onStack:
				out = append(out, Finding{RuleCycle, t.cyclePath(append(append([]step{}, stack...), step{id: id, via: e.via}), e.to)})
			}
		}
		state[id] = done
	}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if state[id] == unvisited {
			visit(id)
		}
	}
	return out
}

// cyclePath formats the part of a DFS path that closes on start: each step names the
// resource, its construct path and the attribute that makes it depend on the next.
func (t *Template) cyclePath(path []step, start string) string {
	i := 0
	for i < len(path) && path[i].id != start {
		i++
	}
	var b strings.Builder
	b.WriteString("CloudFormation cannot order these resources (\"Circular dependency between resources\"):\n")
	for _, s := range path[i:] {
		fmt.Fprintf(&b, "      %s\n        → (%s)\n", t.Describe(s.id), s.via)
	}
	fmt.Fprintf(&b, "      %s", t.Describe(start))
	return b.String()
}
