// Package guard runs AWS Control Tower's proactive controls over synthesized CloudFormation
// templates: the cfn-guard binary and the rules/control-tower/cfn-guard rules that AWS ships
// in the npm package @cdklabs/cdk-validator-cfnguard (pinned in package.json), the same rules
// a regulated organisation enables as CloudFormation hooks that refuse a non-compliant stack
// at deploy time. A finding is open unless the resource suppresses the rule with cfn-guard's
// own metadata, Metadata.guard.SuppressedRules, and states why in Metadata.guard.Reasons
// (package suppress writes both); the Control Tower rules do not read that metadata
// themselves, so this package applies it, and refuses a suppression without a reason.
package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
)

// Package is the npm package holding the binary and the rules, under node_modules.
const Package = "@cdklabs/cdk-validator-cfnguard"

// Finding is one rule broken by one resource.
type Finding struct {
	// Template is the template file, Resource the logical id.
	Template, Resource string
	// Rule is the cfn-guard rule name, Control the Control Tower id (CT.S3.PR.11).
	Rule, Control string
	// Message is the control's description.
	Message string
	// Reason is the suppression's reason; empty for an open finding.
	Reason string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s (%s) %s", filepath.Base(f.Template), f.Resource, f.Control, f.Rule, f.Message)
}

// Report is the outcome over a set of templates.
type Report struct {
	// Open are the findings no suppression covers; Suppressed those one does.
	Open, Suppressed []Finding
}

// Err is nil when nothing is open, else an error listing every open finding.
func (r Report) Err() error {
	if len(r.Open) == 0 {
		return nil
	}
	lines := make([]string, len(r.Open))
	for i, f := range r.Open {
		lines[i] = f.String()
	}
	return fmt.Errorf("AWS Control Tower proactive controls: %d open finding(s):\n%s", len(r.Open), strings.Join(lines, "\n"))
}

// Tool locates the binary and the rules of Package installed under root (the directory
// holding node_modules), for this machine's OS and architecture.
func Tool(root string) (binary, rules string, err error) {
	pkg := filepath.Join(root, "node_modules", filepath.FromSlash(Package))
	osName := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if osName == "" || arch == "" {
		return "", "", fmt.Errorf("%s ships cfn-guard for Linux and macOS on x86-64 and arm64, not %s/%s", Package, runtime.GOOS, runtime.GOARCH)
	}
	binary = filepath.Join(pkg, "bin", osName, arch, "cfn-guard")
	rules = filepath.Join(pkg, "rules", "control-tower", "cfn-guard")
	for _, p := range []string{binary, rules} {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("%s is not installed (run npm ci): %w", Package, err)
		}
	}
	return binary, rules, nil
}

// Check runs every Control Tower rule over the templates and applies their suppressions.
func Check(ctx context.Context, root string, templates []string) (Report, error) {
	binary, rules, err := Tool(root)
	if err != nil {
		return Report{}, err
	}
	args := []string{"validate", "--rules", rules, "--output-format", "json", "--show-summary", "none", "--structured"}
	for _, t := range templates {
		args = append(args, "--data", t)
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	// cfn-guard exits 19 when a rule fails: its JSON says which.
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		return Report{}, fmt.Errorf("cfn-guard: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	findings, err := parse(out.Bytes())
	if err != nil {
		return Report{}, err
	}
	return suppressed(findings)
}

var (
	controlID    = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.[0-9]+)\]:\s*([^\n]*)`)
	resourcePath = regexp.MustCompile(`"path":"/Resources/([^/"]+)`)
)

// parse reads cfn-guard's structured JSON: per template, the rules not complied with; the
// resources are those the rule's checks traversed.
func parse(out []byte) ([]Finding, error) {
	var results []struct {
		Name         string `json:"name"`
		NotCompliant []struct {
			Rule json.RawMessage `json:"Rule"`
		} `json:"not_compliant"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		return nil, fmt.Errorf("cfn-guard output: %w", err)
	}
	var findings []Finding
	for _, r := range results {
		for _, nc := range r.NotCompliant {
			var rule struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(nc.Rule, &rule); err != nil {
				return nil, fmt.Errorf("cfn-guard output: %w", err)
			}
			compact := new(bytes.Buffer)
			if err := json.Compact(compact, nc.Rule); err != nil {
				return nil, err
			}
			text := compact.String()
			var control, message string
			if m := controlID.FindStringSubmatch(strings.ReplaceAll(text, `\n`, "\n")); m != nil {
				control, message = m[1], m[2]
			}
			var seen []string
			for _, m := range resourcePath.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(seen, m[1]) {
					seen = append(seen, m[1])
					findings = append(findings, Finding{Template: r.Name, Resource: m[1], Rule: rule.Name, Control: control, Message: message})
				}
			}
			if len(seen) == 0 { // a failure of the whole template: never silently dropped
				findings = append(findings, Finding{Template: r.Name, Resource: "(template)", Rule: rule.Name, Control: control, Message: message})
			}
		}
	}
	return findings, nil
}

// suppressed splits findings by the suppressions their resources declare.
func suppressed(findings []Finding) (Report, error) {
	metadata := map[string]map[string]guardMetadata{} // template → resource → metadata
	var rep Report
	var errs []error
	for _, f := range findings {
		if _, ok := metadata[f.Template]; !ok {
			md, err := readMetadata(f.Template)
			if err != nil {
				return Report{}, err
			}
			metadata[f.Template] = md
		}
		md := metadata[f.Template][f.Resource]
		if !slices.Contains(md.SuppressedRules, f.Rule) {
			rep.Open = append(rep.Open, f)
			continue
		}
		f.Reason = md.Reasons[f.Rule]
		if strings.TrimSpace(f.Reason) == "" {
			errs = append(errs, fmt.Errorf("%s: %s suppresses %s without a reason", filepath.Base(f.Template), f.Resource, f.Rule))
		}
		rep.Suppressed = append(rep.Suppressed, f)
	}
	return rep, errors.Join(errs...)
}

// guardMetadata is a resource's Metadata.guard.
type guardMetadata struct {
	SuppressedRules []string          `json:"SuppressedRules"`
	Reasons         map[string]string `json:"Reasons"`
}

func readMetadata(file string) (map[string]guardMetadata, error) {
	tmpl, err := cfn.ParseTemplate(file)
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	out := map[string]guardMetadata{}
	for id, r := range tmpl.Resources {
		var md guardMetadata
		if g, ok := r.Metadata["guard"]; ok {
			b, _ := json.Marshal(g)
			if err := json.Unmarshal(b, &md); err != nil {
				return nil, fmt.Errorf("guard: %s: %s: Metadata.guard: %w", file, id, err)
			}
		}
		out[id] = md
	}
	return out, nil
}
