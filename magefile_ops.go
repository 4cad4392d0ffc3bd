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

	"github.com/magefile/mage/mg"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cdkcli"
	"github.com/payhook/payhook/internal/contract"
)

// Local runs the whole system on this machine from envs/local.yaml's synthesized template:
// emulators, functions under the Lambda Runtime Interface Emulator, SQS pollers, the API on
// 127.0.0.1. Prints the endpoint, API key, signing secrets and a curl; Ctrl-C stops it all.
func Local(ctx context.Context) error {
	if err := synth(ctx, "local"); err != nil {
		return err
	}
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
	env := envOr("ENV", "local")
	vars := map[string]string{}
	if env != "local" {
		e, err := envs.LoadFile(filepath.Join("envs", env+".yaml"))
		if err != nil {
			return err
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
	err := run(ctx, vars, bin, append([]string{"-env", env}, args...)...)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode()) // the tool said why; mage would only repeat "exit status 1"
	}
	return err
}
