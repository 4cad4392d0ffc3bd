package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/payhook/payhook/envs"
)

// Placement is where one env deploys and how: what `go run mage.go where` prints.
type Placement struct {
	// Env is the env's name; Stack the CloudFormation stack it deploys as.
	Env, Stack string
	// Account and Region are where the stack goes ("local" for a local-only env).
	Account, Region string
	// Wave is the env's promotion wave ("-" for a local-only env).
	Wave string
	// Approval, Retention and Route say what guards it: the approval it waits for, whether
	// its data is retained, and how it is deployed.
	Approval, Retention, Route string
}

// Where lists where each env of envsDir deploys, in promotion order.
func Where(envsDir string) ([]Placement, error) {
	list, err := envs.LoadDir(envsDir)
	if err != nil {
		return nil, err
	}
	var out []Placement
	for _, e := range list {
		p := Placement{Env: e.Name, Stack: e.StageName(), Account: e.Account, Region: e.Region,
			Wave: "order-" + strconv.Itoa(e.Order), Approval: string(e.Approval), Retention: "deleted with the stack",
			Route: "pipeline (deploy only with FORCE=1)"}
		if e.RetainData {
			p.Retention = "retained, deletion protection"
		}
		if e.LocalOnly {
			p.Account, p.Wave, p.Route = "local", "-", "go run mage.go local"
		}
		out = append(out, p)
	}
	return out, nil
}

// FormatPlacements renders placements as an aligned table, or as the Markdown table the
// README carries when markdown is true.
func FormatPlacements(ps []Placement, markdown bool) string {
	var b strings.Builder
	head := []string{"env", "stack", "account", "region", "wave", "approval", "data", "deployed by"}
	if markdown {
		b.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat(" --- |", len(head)) + "\n")
		for _, p := range ps {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", p.Env, p.Stack, p.Account, p.Region, p.Wave, p.Approval, p.Retention, p.Route)
		}
		return b.String()
	}
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(head, "\t"))
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Env, p.Stack, p.Account, p.Region, p.Wave, p.Approval, p.Retention, p.Route)
	}
	w.Flush()
	return b.String()
}

// ErrPipelineOwned is returned for a deploy, without force, of an env the pipeline deploys:
// the README promises that a merge is the only way an environment changes.
var ErrPipelineOwned = errors.New("the pipeline deploys this environment: merge to main instead, or set FORCE=1 to deploy it by hand (an incident)")

// CheckDeploy refuses a hand deploy of e before any AWS call: a local-only env (never
// deployed), and an env the pipeline owns unless force.
func CheckDeploy(e envs.Env, force bool) error {
	switch {
	case e.LocalOnly:
		return fmt.Errorf("deploy %s: a local-only env is never deployed: go run mage.go local", e.Name)
	case e.PreviewOf() != "":
		return nil // a preview is deployed by hand (or by CI) only
	case !force:
		return fmt.Errorf("deploy %s: %w", e.Name, ErrPipelineOwned)
	}
	return nil
}

// CheckAccount refuses credentials of another account than e's: a deploy would create the
// stack, and a destroy look for it, where the env file does not say it lives.
func CheckAccount(e envs.Env, callerAccount string) error {
	if callerAccount != e.Account {
		return fmt.Errorf("%s: the credentials are of account %s, the env's is %s (%s): use credentials for %s",
			e.Name, callerAccount, e.Account, e.File(), e.Account)
	}
	return nil
}

// CheckDestroy refuses to destroy e before any AWS call: a local-only env (nothing in AWS),
// and any env but a preview unless confirm is its name (CONFIRM=<env>): an env the pipeline
// deploys comes back on the next merge, and one with retain_data leaves its table, logs and
// keys behind by design.
func CheckDestroy(e envs.Env, confirm string) error {
	switch {
	case e.LocalOnly:
		return fmt.Errorf("destroy %s: a local-only env has no stack in AWS (stop `go run mage.go local` with Ctrl-C)", e.Name)
	case e.PreviewOf() != "" || confirm == e.Name:
		return nil
	case e.RetainData:
		return fmt.Errorf("destroy %s: envs/%s.yaml keeps its data (retain_data: true): its table, logs and keys would stay behind, and its API would go; say CONFIRM=%s to destroy the stack anyway", e.Name, e.Name, e.Name)
	}
	return fmt.Errorf("destroy %s: the pipeline deploys this env and brings it back on the next merge; say CONFIRM=%s to destroy its stack anyway (a preview, SUFFIX=<s>, needs no confirmation)", e.Name, e.Name)
}

// Target loads envs/<env>.yaml from envsDir and, with a suffix, returns its preview copy:
// what ENV and SUFFIX name in every target.
func Target(envsDir, env, suffix string) (envs.Env, error) {
	if env == "" {
		return envs.Env{}, errors.New("set ENV=<name> (see `go run mage.go where`)")
	}
	e, err := envs.LoadFile(filepath.Join(envsDir, env+".yaml"))
	if err != nil || suffix == "" {
		return e, err
	}
	return e.Preview(suffix)
}
