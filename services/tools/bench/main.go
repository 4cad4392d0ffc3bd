// Command bench measures what a platform team decides with, and writes docs/bench.md,
// docs/bench.json and docs/bench.png: each function's cold start under the AWS Lambda
// Runtime Interface Emulator (the emulator's INIT REPORT and exec→first response, median and
// p90 of N launches), warm latency, peak memory and deployed size, against a bare
// aws-lambda-go function and the reference design's Python ingest module; synthesis time
// for 1, 2 and 4 envs; the local end-to-end load test; and the monthly cost of prod against
// the reference design (internal/cost).
//
//	go run ./services/tools/bench -template <local template> [-quick] [-out docs]
//
// `go run mage.go bench` runs it (BENCH_QUICK=1 for the quick mode CI uses to check that it
// works: fewer launches, a small load; figures from it are not for decisions).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/cost"
	"github.com/payhook/payhook/internal/lambdabuild"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/services/internal/testenv"
)

func main() {
	template := flag.String("template", "", "synthesized template of envs/local.yaml, for the load test (required)")
	out := flag.String("out", "docs", "directory for bench.md, bench.json and bench.png")
	quick := flag.Bool("quick", false, "few launches and a small load: checks that the benchmark works")
	root := flag.String("root", ".", "the project root")
	flag.Parse()
	if *template == "" {
		fmt.Fprintln(os.Stderr, "bench: -template is required")
		os.Exit(2)
	}
	// Ctrl-C cancels the run: every process it started is stopped on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	md, err := bench(ctx, *root, *template, *out, *quick)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(md)
}

// settings are the sizes of one run.
type settings struct {
	launches, warm, synthReps, loadN, loadC int
}

func bench(ctx context.Context, root, template, out string, quick bool) (string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	if template, err = filepath.Abs(template); err != nil {
		return "", err
	}
	s, mode := settings{launches: 10, warm: 200, synthReps: 3, loadN: 2000, loadC: 16}, "full"
	if quick {
		s, mode = settings{launches: 2, warm: 10, synthReps: 1, loadN: 100, loadC: 4}, "quick"
	}
	tmp, err := os.MkdirTemp("", "payhook-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	r := Results{Mode: mode, Launches: s.launches, Warm: s.warm, Sizes: map[string]int64{}, CPUs: runtime.NumCPU()}
	r.Date = time.Now().UTC().Format("2006-01-02")
	step("functions under the Lambda RIE")
	if err := measureFunctions(ctx, root, tmp, s, &r); err != nil {
		return "", err
	}
	step("synthesis of 1, 2 and 4 envs")
	if r.Synth, err = measureSynth(ctx, root, tmp, s.synthReps); err != nil {
		return "", err
	}
	step("local end-to-end load test")
	if r.Load, err = measureLoad(ctx, root, tmp, template, s.loadN, s.loadC); err != nil {
		return "", err
	}
	costMD, err := costs(root, &r)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	return write(out, r, costMD)
}

func step(what string) { fmt.Fprintln(os.Stderr, "bench:", what) }

// measureFunctions runs every function (and the floor) under the RIE against fresh
// emulators, then the reference module against the same emulators.
func measureFunctions(ctx context.Context, root, tmp string, s settings, r *Results) error {
	env, err := testenv.Start(ctx)
	if err != nil {
		return err
	}
	defer env.Stop()
	w, err := newWorld(ctx, env)
	if err != nil {
		return err
	}
	rie, err := lambdarie.InstallRIE(ctx, filepath.Join(root, ".payhook", "bin"), nil)
	if err != nil {
		return err
	}
	pkgs := map[string]string{"floor": "./services/tools/bench/floor"}
	for _, svc := range services {
		pkgs[svc] = "./services/" + svc
	}
	boots, err := lambdabuild.Host(ctx, root, filepath.Join(tmp, "host"), pkgs, nil)
	if err != nil {
		return err
	}
	r.Functions = map[string]cost.FunctionFigures{}
	for _, name := range append(append([]string{}, services...), "floor") {
		vars := os.Environ()
		for k, v := range w.vars {
			vars = append(vars, k+"="+v)
		}
		vars = append(vars, "AWS_LAMBDA_FUNCTION_NAME="+name, contract.EnvPayhookService+"="+name)
		events := func(i int) ([]byte, error) { return w.eventFor(ctx, name, i) }
		fig, err := measure(ctx, rie, boots[name], vars, events, s.launches, s.warm)
		if err != nil {
			return err
		}
		r.Functions[name] = fig
	}
	if err := armSizes(ctx, root, tmp, r); err != nil {
		return err
	}
	if r.Reference, err = measurePython(ctx, w, s.launches, s.warm); err != nil {
		return err
	}
	r.Python = w.python
	// Lambda adds its START/END/REPORT lines to every invocation; the floor's log is just those.
	r.Reference.LogBytes += r.Functions["floor"].LogBytes
	return nil
}

// armSizes builds every function as it is deployed (linux/arm64, stripped, the services with
// lambdabuild's flags) into tmp and records the sizes.
func armSizes(ctx context.Context, root, tmp string, r *Results) error {
	dir := filepath.Join(tmp, "arm64")
	if err := lambdabuild.Build(ctx, root, dir, lambdabuild.Lambda); err != nil {
		return fmt.Errorf("build the services for arm64: %w", err)
	}
	floor := filepath.Join(dir, "floor", "bootstrap")
	if err := run(ctx, root, []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, "go", "build", "-trimpath", "-buildvcs=false",
		"-tags", "lambda.norpc", "-ldflags", "-s -w -buildid=", "-o", floor, "./services/tools/bench/floor"); err != nil {
		return err
	}
	for _, name := range append(append([]string{}, services...), "floor") {
		st, err := os.Stat(filepath.Join(dir, name, "bootstrap"))
		if err != nil {
			return fmt.Errorf("size of %s: %w", name, err)
		}
		r.Sizes[name] = st.Size()
		f := r.Functions[name]
		f.SizeBytes = st.Size()
		r.Functions[name] = f
	}
	return nil
}

// costs estimates prod and the reference design at 1M, 10M and 100M webhooks a month (5%
// retried), with this run's durations and prod's golden template's counts.
func costs(root string, r *Results) (string, error) {
	e, err := envs.LoadFile(filepath.Join(root, "envs", "prod.yaml"))
	if err != nil {
		return "", err
	}
	body, err := os.ReadFile(filepath.Join(root, "tests", "testdata", "prod.template.json"))
	if err != nil {
		return "", err
	}
	counts, err := cost.CountTemplate(body)
	if err != nil {
		return "", err
	}
	for _, rate := range []float64{1e6, 10e6, 100e6} {
		load := cost.Workload{WebhooksPerMonth: rate, RetryFraction: 0.05}
		r.Costs = append(r.Costs, costPoint{rate, cost.Payhook(e, load, r.Measured, counts).Total(), cost.Reference(load, r.Measured, e.LogRetentionDays).Total()})
	}
	var b bytes.Buffer
	load := cost.Workload{WebhooksPerMonth: 10e6, RetryFraction: 0.05}
	cost.WriteMarkdown(&b, cost.Payhook(e, load, r.Measured, counts), cost.Reference(load, r.Measured, e.LogRetentionDays))
	cost.Guarantees(&b, cost.PerBatch(e, load))
	return "At 10M webhooks a month (`go run mage.go cost ENV=prod RATE=10000000` prints the same from prod's synthesized template):\n\n" + b.String(), nil
}
