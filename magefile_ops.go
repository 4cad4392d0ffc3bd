//go:build mage

// Targets that run or operate an environment: local, smoke, replay, loadtest, failures,
// totals, iam:report.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/internal/cdkcli"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localstate"
)

// Local runs the whole system on this machine from envs/local.yaml's synthesized template:
// emulators, functions under the Lambda Runtime Interface Emulator, SQS pollers, the API on
// 127.0.0.1. Prints the endpoint, API key, signing secrets and a curl; Ctrl-C stops it all.
// SUFFIX=s runs the preview copy local-<s> apart (state and logs in .payhook/local-<s>), so
// two copies run side by side; the other targets take the same SUFFIX to reach it.
func Local(ctx context.Context) error {
	suffix := os.Getenv("SUFFIX")
	e, err := app.Target("envs", "local", suffix)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := synth(ctx, "local", suffix); err != nil {
		return err
	}
	template, err := oneTemplate("local", filepath.Join(outDir, "assembly-"+e.StageName()))
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
	args := []string{"-template", template}
	if suffix != "" {
		work := localWorkDir(suffix)
		args = append(args, "-workdir", work, "-state", filepath.Join(work, "local.json"))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = nodeEnv()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return nil
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
	return runTool(ctx, "./services/tools/smoke", true)
}

// Replay puts recorded failures back on the main queue (ENV, default local; LIMIT, default
// 1000): list them first with `failures`.
func Replay(ctx context.Context) error {
	return runTool(ctx, "./services/tools/replay", false, "-limit", envOr("LIMIT", "1000"))
}

// Failures lists the notifications recorded as failed in ENV (default local), with why and
// whether they were replayed (LIMIT, default 100; ALL=1 adds replays not yet accounted and
// dead messages tied to no transaction).
func Failures(ctx context.Context) error {
	args := []string{"-limit", envOr("LIMIT", "100")}
	if os.Getenv("ALL") == "1" {
		args = append(args, "-replayed", "-unlinked")
	}
	return runTool(ctx, "./services/tools/failures", false, args...)
}

// Totals prints the daily totals of ENV (default local): DAY (YYYY-MM-DD, default today,
// UTC), PROVIDER (default every provider), per currency credited, debited and net.
func Totals(ctx context.Context) error {
	args := []string{}
	if d := os.Getenv("DAY"); d != "" {
		args = append(args, "-day", d)
	}
	if p := os.Getenv("PROVIDER"); p != "" {
		args = append(args, "-provider", p)
	}
	return runTool(ctx, "./services/tools/totals", false, args...)
}

// Loadtest sends N (2000) webhooks at concurrency C (16), DUP (0.2) of them twice, to ENV
// (default local); reports throughput, p50/p99 latency, lost and double-counted.
func Loadtest(ctx context.Context) error {
	return runTool(ctx, "./services/tools/loadtest", true, "-n", envOr("N", "2000"), "-c", envOr("C", "16"), "-dup", envOr("DUP", "0.2"))
}

// runTool runs a tool against ENV (default local). A deployed env needs AWS credentials,
// checked first; one that posts webhooks (posts) probes it as its smoke provider alone
// (PAYHOOK_PROVIDERS, unless set), so smoke and loadtest there never sign as, or count for, a
// real provider. The tool prints its own error: the target adds none.
func runTool(ctx context.Context, pkg string, posts bool, args ...string) error {
	env, suffix := envOr("ENV", "local"), os.Getenv("SUFFIX")
	vars := map[string]string{}
	e, err := app.Target("envs", env, suffix)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(pkg), err)
	}
	if env == "local" && suffix != "" {
		args = append(args, "-state", filepath.Join(localWorkDir(suffix), "local.json"))
	}
	if env != "local" {
		if suffix != "" && !posts && os.Getenv(contract.ProbeProviders) == "" {
			vars[contract.ProbeProviders] = e.IngestProvidersSpec() // no file names the preview
		}
		if err := cdkcli.RequireCredentials(ctx); err != nil {
			return fmt.Errorf("%s ENV=%s: %w (or run it against the local stack: ENV=local)", filepath.Base(pkg), env, err)
		}
		if posts && os.Getenv(contract.ProbeProviders) == "" {
			vars[contract.ProbeProviders] = contract.SmokeProvidersSpec()
		}
		vars["AWS_REGION"] = e.Region
	}
	// Built, then run: `go run` would add its own "exit status 1" to the tool's error.
	bin := filepath.Join(".payhook", "bin", filepath.Base(pkg))
	if err := run(ctx, nil, "go", "build", "-o", bin, pkg); err != nil {
		return err
	}
	if env != "local" {
		env = e.Name // a preview's stack is payhook-<env>-<suffix>
	}
	err = run(ctx, vars, bin, append([]string{"-env", env}, args...)...)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode()) // the tool said why; mage would only repeat "exit status 1"
	}
	return err
}

// Chaos runs the local load test under fault injection: it starts the local stack apart
// from `mage local` (.payhook/chaos) with FAULTS (default "default": 5 % of every kind on
// every AWS call of the webhook path; or a plan file, README "Fault injection"), sends N
// (1000) webhooks at C (8), DUP (0.2) twice, and prints, beside throughput and p99, the
// faults injected per kind, lost, double-counted and stranded notifications and how long
// until everything settled. It fails when anything was lost or counted twice.
func Chaos(ctx context.Context) error {
	if err := synth(ctx, "local", ""); err != nil {
		return err
	}
	template, err := oneTemplate("chaos", filepath.Join(outDir, "assembly-payhook-local"))
	if err != nil {
		return err
	}
	work := filepath.Join(".payhook", "chaos")
	state := filepath.Join(work, "local.json")
	for _, b := range [][2]string{{"payhook-local", "./cmd/payhook-local"}, {"loadtest", "./services/tools/loadtest"}} {
		if err := run(ctx, nil, "go", "build", "-o", filepath.Join(".payhook", "bin", b[0]), b[1]); err != nil {
			return err
		}
	}
	stack := exec.Command(filepath.Join(".payhook", "bin", "payhook-local"), "-template", template, "-workdir", work,
		"-state", state, "-faults", envOr("FAULTS", "default"))
	stack.Env = nodeEnv()
	stack.Stdout, stack.Stderr = os.Stderr, os.Stderr
	if err := stack.Start(); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer func() { _ = stack.Process.Signal(os.Interrupt); _ = stack.Wait() }()
	if err := waitRunning(ctx, state, 3*time.Minute); err != nil {
		return err
	}
	loadErr := run(ctx, nil, filepath.Join(".payhook", "bin", "loadtest"), "-env", "local", "-state", state,
		"-n", envOr("N", "1000"), "-c", envOr("C", "8"), "-dup", envOr("DUP", "0.2"))
	counts, err := iamproxy.InjectedFaults(filepath.Join(work, "calls.jsonl"))
	if err != nil {
		return err
	}
	var line []string
	for _, k := range faults.Kinds() {
		line = append(line, fmt.Sprintf("%s %d", k, counts[string(k)]))
	}
	fmt.Println("faults injected:", strings.Join(line, ", "))
	return loadErr
}

// waitRunning waits until the local stack's state file says it runs.
func waitRunning(ctx context.Context, state string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if s, err := localstate.Read(state); err == nil && s != nil && s.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("chaos: the local stack did not start within %s (see .payhook/chaos/logs)", limit)
}

// localWorkDir is where the local preview copy local-<suffix> keeps its state and logs.
func localWorkDir(suffix string) string { return filepath.Join(".payhook", "local-"+suffix) }
