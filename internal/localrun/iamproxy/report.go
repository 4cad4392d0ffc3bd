package iamproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/payhook/payhook/internal/iam"
)

// FunctionGrants is what a function's role grants, as grants.json records it at start.
type FunctionGrants struct {
	Function string  `json:"function"`
	Role     string  `json:"role"`
	Grants   []Grant `json:"grants"`
	// Managed are managed policies whose grants are not known locally.
	Managed []string `json:"managed,omitempty"`
}

// WriteGrants writes the functions' grants to path (JSON).
func WriteGrants(path string, grants []FunctionGrants) error {
	b, err := json.MarshalIndent(grants, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write grants: %w", err)
	}
	return nil
}

// ReadGrants reads a grants.json file.
func ReadGrants(path string) ([]FunctionGrants, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	var out []FunctionGrants
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// FunctionReport is the least-privilege report of one function over a run.
type FunctionReport struct {
	Function, Role string
	// Used are the actions the function called and was allowed, sorted.
	Used []string
	// Unused are granted actions no allowed call matched and nothing justifies.
	Unused []Grant
	// Justified are granted actions no call matched, with the reason a local run cannot.
	Justified []Grant
	// Denied are the denied calls, one per action and resource, with their count.
	Denied []DeniedCall
	// Managed are managed policies whose grants cannot be checked.
	Managed []string
}

// DeniedCall is a denied action on a resource and how often it was denied.
type DeniedCall struct {
	Action, Resource, Why string
	Count                 int
}

// Clean reports whether the function used every grant (or it is justified) and no call
// was denied.
func (r FunctionReport) Clean() bool { return len(r.Unused) == 0 && len(r.Denied) == 0 }

// BuildReport matches the calls of a run against the grants: a grant is used when an
// allowed call by its function matches its action and one of its resources (IAM
// wildcards apply).
func BuildReport(grants []FunctionGrants, calls []CallRecord) []FunctionReport {
	byFn := map[string][]CallRecord{}
	for _, c := range calls {
		if c.Fault != "" {
			continue // an injected fault, not an authorization decision
		}
		byFn[c.Function] = append(byFn[c.Function], c)
	}
	out := make([]FunctionReport, 0, len(grants))
	for _, fg := range grants {
		rep := FunctionReport{Function: fg.Function, Role: fg.Role, Managed: fg.Managed}
		used := map[string]bool{}
		denied := map[string]*DeniedCall{}
		var order []string
		for _, c := range byFn[fg.Function] {
			if c.Allowed {
				used[c.Action] = true
				continue
			}
			k := c.Action + " " + c.Resource
			if denied[k] == nil {
				denied[k] = &DeniedCall{Action: c.Action, Resource: c.Resource, Why: c.Why}
				order = append(order, k)
			}
			denied[k].Count++
		}
		for a := range used {
			rep.Used = append(rep.Used, a)
		}
		sort.Strings(rep.Used)
		for _, k := range order {
			rep.Denied = append(rep.Denied, *denied[k])
		}
		for _, g := range fg.Grants {
			switch {
			case grantUsed(g, byFn[fg.Function]):
			case g.Justification != "":
				rep.Justified = append(rep.Justified, g)
			default:
				rep.Unused = append(rep.Unused, g)
			}
		}
		out = append(out, rep)
	}
	return out
}

func grantUsed(g Grant, calls []CallRecord) bool {
	for _, c := range calls {
		if !c.Allowed || !iam.Glob(strings.ToLower(g.Action), strings.ToLower(c.Action)) {
			continue
		}
		for _, r := range g.Resources {
			if iam.Glob(r, c.Resource) {
				return true
			}
		}
	}
	return false
}

// WriteReport prints the report: per function, the actions used, the granted actions never
// used (and the justified ones, with their reason), and the denied calls.
func WriteReport(w io.Writer, reps []FunctionReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range reps {
		fmt.Fprintf(tw, "%s (%s)\n", r.Function, r.Role)
		fmt.Fprintf(tw, "  used\t%s\n", orNone(strings.Join(r.Used, ", ")))
		unused := make([]string, 0, len(r.Unused))
		for _, g := range r.Unused {
			unused = append(unused, g.Action)
		}
		fmt.Fprintf(tw, "  granted, never used\t%s\n", orNone(strings.Join(unused, ", ")))
		for _, g := range r.Justified {
			fmt.Fprintf(tw, "  granted, justified\t%s: %s\n", g.Action, g.Justification)
		}
		if len(r.Denied) == 0 {
			fmt.Fprintf(tw, "  denied\tnone\n")
		}
		for _, d := range r.Denied {
			fmt.Fprintf(tw, "  denied\t%s on %s (%d×): %s\n", d.Action, d.Resource, d.Count, d.Why)
		}
		for _, m := range r.Managed {
			fmt.Fprintf(tw, "  managed policy\t%s (not in the template: its grants are not checked locally)\n", m)
		}
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
