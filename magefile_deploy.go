//go:build mage

// Targets that deploy, or prepare a deployment: bootstrap, pipeline:*, diff, deploy,
// destroy, where.

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cdkcli"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/pipeline/bootstrap"
)

// Bootstrap prepares the one-time `cdk bootstrap` of ENV's account and region (ENV=pipeline:
// the pipeline's): the CloudFormation execution policy derived from every template deploying
// there and payhook's bootstrap template (CDK's, trusting the pipeline's named roles only),
// written to .payhook/bootstrap/<account>-<region>/. Prints the command; runs it when AWS
// credentials are at hand.
func Bootstrap(ctx context.Context) error {
	env := os.Getenv("ENV")
	if env == "" {
		return fmt.Errorf("bootstrap: set ENV=<name> (the env's account) or ENV=pipeline (the pipeline's)")
	}
	if err := synth(ctx, "", ""); err != nil {
		return err
	}
	cdkTemplate, err := os.ReadFile(bootstrap.CDKTemplate)
	if err != nil {
		return fmt.Errorf("bootstrap: CDK's bootstrap template: %w (run npm ci)", err)
	}
	plan, err := bootstrap.NewPlan(outDir, "envs", env, cdkTemplate)
	if err != nil {
		return err
	}
	if err := plan.Write(); err != nil {
		return err
	}
	fmt.Printf("bootstrap: %s/%s serves %s\n  execution policy: %s/execution-policy-*.json (%d document(s))\n  template: %s\n",
		plan.Account, plan.Region, strings.Join(plan.Stacks, ", "), plan.Dir, len(plan.Policies), plan.TemplateFile())
	fmt.Printf("\n  npx cdk %s\n\n", strings.Join(plan.Args(), " "))
	if err := cdkcli.RequireCredentials(ctx); err != nil {
		fmt.Printf("bootstrap: not run (%v); run the command above with credentials for account %s\n", err, plan.Account)
		return nil
	}
	return cdk(ctx, plan.Args()...)
}

// Pipeline holds the delivery pipeline's targets.
type Pipeline mg.Namespace

// Synth builds and synthesizes the whole app (what the pipeline's synth step runs) and
// prints the promotion waves.
func (Pipeline) Synth(ctx context.Context) error {
	if err := synth(ctx, "", ""); err != nil {
		return err
	}
	return pipelineSummary()
}

// Deploy deploys the pipeline stack itself, once; afterwards every merge updates it (self-mutation).
// Needs AWS credentials for the pipeline account, bootstrapped (see README).
func (Pipeline) Deploy(ctx context.Context) error {
	if err := cdkcli.RequireCredentials(ctx); err != nil {
		return fmt.Errorf("pipeline:deploy: %w", err)
	}
	mg.CtxDeps(ctx, Pipeline.Synth)
	return cdk(ctx, "deploy", "--app", outDir, contract.PipelineStackID, "--require-approval", "broadening")
}

// Diff compares the synthesized stacks with BASE (a template file or directory of
// templates such as tests/testdata, no AWS needed; ENV: that env's only) or, with AWS
// credentials, with the deployed stacks.
func Diff(ctx context.Context) error {
	if base := os.Getenv("BASE"); base != "" {
		if os.Getenv("SUFFIX") != "" {
			return fmt.Errorf("diff: BASE compares with golden templates, which hold no preview: drop SUFFIX (or compare a preview with its deployed stack, with credentials)")
		}
		// The whole app, as the golden templates are synthesized: a stage's construct
		// paths, and the logical ids derived from them, differ when it is synthesized alone.
		if err := synth(ctx, "", ""); err != nil {
			return err
		}
		return diffAgainst(ctx, base)
	}
	if err := cdkcli.RequireCredentials(ctx); err != nil {
		return fmt.Errorf("diff against deployed stacks: %w\n(or compare with a local template: go run mage.go diff BASE=tests/testdata)", err)
	}
	if err := synth(ctx, os.Getenv("ENV"), os.Getenv("SUFFIX")); err != nil {
		return err
	}
	return cdk(ctx, "diff", "--app", outDir, "--all")
}

// Deploy deploys ENV by hand from the synthesized assembly, an incident's tool: the pipeline
// deploys every env, so Deploy refuses one without FORCE=1, and refuses credentials of
// another account than the env file's. Needs AWS credentials.
//
// With SUFFIX=s it deploys ENV's preview copy (payhook-<env>-<s>, in ENV's account), which
// needs no FORCE: README "Preview environments".
func Deploy(ctx context.Context) error {
	e, err := app.Target("envs", os.Getenv("ENV"), os.Getenv("SUFFIX"))
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	if err := app.CheckDeploy(e, os.Getenv("FORCE") == "1"); err != nil {
		return err
	}
	if err := checkCaller(ctx, "deploy", e); err != nil {
		return err
	}
	if err := synth(ctx, os.Getenv("ENV"), os.Getenv("SUFFIX")); err != nil {
		return err
	}
	return cdk(ctx, "deploy", "--app", outDir, app.StackPath(e.Name, true, e.Deployable()), "--require-approval", "broadening")
}

// Destroy removes ENV's stack (SUFFIX=s: its preview copy's) and, for a preview, frees its
// secrets' names at once. A preview goes without a question; any other env needs CONFIRM=<env>
// (the pipeline brings it back on the next merge; with retain_data its table, logs and keys
// stay behind by design). Needs AWS credentials for the env's account.
func Destroy(ctx context.Context) error {
	e, err := app.Target("envs", os.Getenv("ENV"), os.Getenv("SUFFIX"))
	if err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	if err := app.CheckDestroy(e, os.Getenv("CONFIRM")); err != nil {
		return err
	}
	if err := checkCaller(ctx, "destroy", e); err != nil {
		return err
	}
	if err := synth(ctx, os.Getenv("ENV"), os.Getenv("SUFFIX")); err != nil {
		return err
	}
	if err := cdk(ctx, "destroy", "--app", outDir, app.StackPath(e.Name, true, e.Deployable()), "--force"); err != nil {
		return err
	}
	if e.PreviewOf() == "" {
		return nil
	}
	return cdkcli.DeleteSecretsNow(ctx, e.Region, contract.SigningSecretName(e.Name), contract.SmokeSecretName(e.Name))
}

// checkCaller stops what (deploy, destroy) before it synthesizes when there are no AWS
// credentials or they are of another account than e's.
func checkCaller(ctx context.Context, what string, e envs.Env) error {
	account, err := cdkcli.CallerAccount(ctx, e.Region)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := app.CheckAccount(e, account); err != nil {
		return fmt.Errorf("%s %w", what, err)
	}
	return nil
}

// Where prints where each env deploys: account, region, stack, wave, approval, data
// retention and how it is deployed (ENV: that env only). README's "Where each env goes" is
// its Markdown (MARKDOWN=1).
func Where() error {
	ps, err := app.Where("envs")
	if err != nil {
		return err
	}
	if only := os.Getenv("ENV"); only != "" {
		ps = slices.DeleteFunc(ps, func(p app.Placement) bool { return p.Env != only })
		if len(ps) == 0 {
			return fmt.Errorf("where: no env %q in envs/", only)
		}
	}
	fmt.Print(app.FormatPlacements(ps, os.Getenv("MARKDOWN") == "1"))
	return nil
}

func pipelineSummary() error {
	lines, err := app.Waves("envs")
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Println("  " + l)
	}
	return nil
}

func diffAgainst(ctx context.Context, base string) error {
	targets, err := app.DiffTargets("envs", base, os.Getenv("ENV"))
	if err != nil {
		return err
	}
	// The golden templates hold <asset-hash> and <code-hash>: compare like with like.
	normalized := filepath.Join(".payhook", "cdk.out.normalized")
	if err := app.NormalizedAssembly(outDir, normalized); err != nil {
		return err
	}
	for _, t := range targets {
		fmt.Printf("diff: %s against %s\n", t.Stack, t.Template)
		if err := cdk(ctx, "diff", "--app", normalized, "--template", t.Template, t.Stack); err != nil {
			return err
		}
	}
	return nil
}
