//go:build mage

// Generators: new:env, new:ci, new:app.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/appgen"
	"github.com/payhook/payhook/internal/ciworkflow"
)

// New holds generators.
type New mg.Namespace

// Env writes envs/<name>.yaml as a copy of FROM (default staging) in FROM's promotion wave,
// or at ORDER: `go run mage.go new:env qa FROM=dev ORDER=1`. It refuses an existing name,
// and removes the file again unless the result loads.
func (New) Env(name string) error {
	from := envOr("FROM", "staging")
	order := 0
	if v := os.Getenv("ORDER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("new:env: ORDER=%q: want a promotion order, 1 or more", v)
		}
		order = n
	}
	path, err := envs.NewEnvFile("envs", name, from, order)
	if err != nil {
		return err
	}
	fmt.Printf("new:env: wrote %s (from %s); review it, then `go run mage.go synth`\n", path, from)
	return nil
}

// CI writes the CI workflow of SYSTEM (github: .github/workflows/payhook-preview.yml): on
// each pull request a preview copy of ENV (default dev) named pr-<number> is deployed through
// the env file's preview_role, smoke-tested, its endpoint posted, and destroyed when the pull
// request closes. Prints the trust policy that role needs.
func (New) CI(system string) error {
	if !slices.Contains(ciworkflow.Systems, system) {
		return fmt.Errorf("new:ci: no workflow for %q (known: %s)", system, strings.Join(ciworkflow.Systems, ", "))
	}
	e, err := app.Target("envs", envOr("ENV", "dev"), "")
	if err != nil {
		return fmt.Errorf("new:ci: %w", err)
	}
	pc, err := envs.LoadPipeline(filepath.Join("envs", envs.PipelineFile))
	if err != nil {
		return err
	}
	p := ciworkflow.Preview{Env: e, Repository: pc.Repository}
	workflow, err := ciworkflow.GitHub(p)
	if err != nil {
		return err
	}
	trust, err := ciworkflow.TrustPolicy(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(ciworkflow.GitHubPath), 0o755); err != nil {
		return fmt.Errorf("new:ci: %w", err)
	}
	if err := os.WriteFile(ciworkflow.GitHubPath, workflow, 0o644); err != nil {
		return fmt.Errorf("new:ci: %w", err)
	}
	fmt.Printf("new:ci: wrote %s (previews of %s from %s's pull requests)\n", ciworkflow.GitHubPath, e.Name, pc.Repository)
	fmt.Printf("the trust policy of %s (with GitHub's OIDC provider in account %s):\n%s", e.PreviewRole, e.Account, trust)
	return nil
}

// App writes a new webhook service on payhook's constructs in DIR, for another team: a Go
// module (MODULE, default example.com/<name>) with its CDK app, envs/ per environment, a
// receiver that verifies signatures and a worker that records each event once (with their
// tests), a magefile (build, test, synth, deploy, local under this checkout's runner, send)
// and a README (NAME, default DIR's base name; ROUTE, the webhook path, default webhooks).
// It builds against this tree's constructs module (a replace directive the README says how
// to drop).
func (New) App(dir string) error {
	name := envOr("NAME", filepath.Base(dir))
	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		return fmt.Errorf("new:app: %w", err)
	}
	pkg, err := os.ReadFile("package.json")
	if err != nil {
		return fmt.Errorf("new:app: %w", err)
	}
	v, err := appgen.VersionsFrom(goMod, pkg)
	if err != nil {
		return err
	}
	root, err := filepath.Abs(".")
	if err != nil {
		return fmt.Errorf("new:app: %w", err)
	}
	written, err := appgen.Write(appgen.Options{Dir: dir, Module: envOr("MODULE", "example.com/"+name), Name: name,
		Path: envOr("ROUTE", "webhooks"), Versions: v, ConstructsDir: filepath.Join(root, "constructs"), PayhookDir: root})
	if err != nil {
		return err
	}
	fmt.Printf("new:app: wrote %s in %s\n", strings.Join(written, ", "), dir)
	fmt.Println("next (its README says more): cd " + dir + " && go mod tidy && go run mage.go test synth")
	return nil
}
