//go:build mage

// Targets that measure: bench, microbench, cost, nag.

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/magefile/mage/mg"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/cost"
)

// Bench measures cold start, warm latency, memory and size of every function against a bare
// Go function and the reference design's Python module, synthesis time, the local load test
// and the cost comparison, and writes docs/bench.md (with bench.json and bench.png).
// BENCH_QUICK=1 checks that it works (few launches, a small load) and writes to a temporary
// directory instead, or to BENCH_OUT.
func Bench(ctx context.Context) error {
	if err := synth(ctx, "local", ""); err != nil {
		return err
	}
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
	if err := synth(ctx, env, ""); err != nil {
		return err
	}
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

// Nag reports cdk-nag's findings per stack and pack (AwsSolutions, PCI DSS 3.2.1, NIST 800-53
// R5), open and suppressed; informational: tests gate AwsSolutions and PCI DSS 3.2.1.
func Nag(ctx context.Context) error {
	mg.CtxDeps(ctx, Build)
	return run(ctx, nil, "go", "run", "./cmd/nagreport")
}
