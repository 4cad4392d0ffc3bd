package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// SynthTiming is the wall time of one synthesis process per number of envs.
type SynthTiming struct {
	Envs   int     `json:"envs"`
	Median float64 `json:"median_s"`
}

// measureSynth times the CDK app (one process: jsii start, build, synth) for 1, 2 and 4
// envs, each a copy of envs/dev.yaml, `reps` times each.
func measureSynth(ctx context.Context, root, tmp string, reps int) ([]SynthTiming, error) {
	bin := filepath.Join(tmp, "cdk-app")
	if err := run(ctx, root, nil, "go", "build", "-o", bin, "./cmd/cdk"); err != nil {
		return nil, err
	}
	var out []SynthTiming
	for _, n := range []int{1, 2, 4} {
		dir := filepath.Join(tmp, fmt.Sprintf("envs%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		// dev is deployable, so its stage needs the pipeline's file beside it.
		for _, name := range []string{"dev.yaml", envs.PipelineFile} {
			src, err := os.ReadFile(filepath.Join(root, "envs", name))
			if err != nil {
				return nil, fmt.Errorf("bench: copy env file: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
				return nil, fmt.Errorf("bench: copy env file: %w", err)
			}
		}
		for i := 2; i <= n; i++ {
			if _, err := envs.NewEnvFile(dir, fmt.Sprintf("dev%d", i), "dev", 0); err != nil {
				return nil, err
			}
		}
		var times []float64
		for r := 0; r < reps; r++ {
			t0 := time.Now()
			err := run(ctx, root, []string{contract.SynthEnvsDir + "=" + dir, contract.SynthAssetsDir + "=" + filepath.Join(root, "build"),
				contract.SynthPipeline + "=0", "CDK_OUTDIR=" + filepath.Join(tmp, "out")}, bin)
			if err != nil {
				return nil, err
			}
			times = append(times, time.Since(t0).Seconds())
		}
		out = append(out, SynthTiming{Envs: n, Median: quantile(times, 0.5)})
	}
	return out, nil
}

// LoadFigures are the local end-to-end load test's results.
type LoadFigures struct {
	Requests   int     `json:"requests"`
	Throughput float64 `json:"throughput_rps"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	Lost       int     `json:"lost"`
	Double     int     `json:"double_counted"`
}

var (
	throughputLine = regexp.MustCompile(`throughput ([0-9.]+) req/s .*latency p50 ([0-9.]+)(µs|ms|s), p99 ([0-9.]+)(µs|ms|s)`)
	lostLine       = regexp.MustCompile(`lost (\d+), double-counted (\d+)`)
)

// measureLoad starts the local stack from template, runs the load test against it (n
// notifications, c senders, 20% of them twice) and stops the stack.
func measureLoad(ctx context.Context, root, tmp, template string, n, c int) (LoadFigures, error) {
	var fig LoadFigures
	bin := filepath.Join(tmp, "payhook-local")
	if err := run(ctx, root, nil, "go", "build", "-o", bin, "./cmd/payhook-local"); err != nil {
		return fig, err
	}
	state := filepath.Join(tmp, "local.json")
	local := exec.Command(bin, "-template", template, "-state", state, "-workdir", filepath.Join(tmp, "local"))
	local.Dir = root
	local.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(filepath.Join(tmp, "payhook-local.out"))
	if err != nil {
		return fig, err
	}
	defer logFile.Close()
	local.Stdout, local.Stderr = logFile, logFile
	if err := local.Start(); err != nil {
		return fig, fmt.Errorf("start the local stack: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- local.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = local.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("the local stack did not stop cleanly: %w (see %s)", err, logFile.Name())
			}
			return nil
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-local.Process.Pid, syscall.SIGKILL)
			return fmt.Errorf("the local stack did not stop in 30 s (see %s)", logFile.Name())
		}
	}
	defer func() { _ = stop() }()
	if gone, err := waitReady(ctx, state, exited, logFile.Name()); err != nil {
		stopped = gone // an exited stack needs no stop; a running one is stopped on the way out
		return fig, err
	}
	cmd := exec.CommandContext(ctx, "go", "run", "./services/tools/loadtest", "-env", "local", "-state", state,
		"-n", strconv.Itoa(n), "-c", strconv.Itoa(c), "-dup", "0.2")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fig, fmt.Errorf("load test: %w\n%s", err, out)
	}
	if fig, err = parseLoad(string(out), n); err != nil {
		return fig, err
	}
	return fig, stop()
}

// waitReady waits for the local stack's state file, failing at once if the stack exits
// (gone) or the context ends.
func waitReady(ctx context.Context, state string, exited <-chan error, log string) (gone bool, err error) {
	deadline := time.After(3 * time.Minute)
	for {
		if _, err := os.Stat(state); err == nil {
			return false, nil
		}
		select {
		case err := <-exited:
			return true, fmt.Errorf("the local stack exited while starting: %v (see %s)", err, log)
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline:
			return false, fmt.Errorf("the local stack did not start in 3 minutes (see %s)", log)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// parseLoad reads the load test's report lines.
func parseLoad(out string, n int) (LoadFigures, error) {
	fig := LoadFigures{Requests: n}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := throughputLine.FindStringSubmatch(sc.Text()); m != nil {
			fig.Throughput, _ = strconv.ParseFloat(m[1], 64)
			fig.P50Ms, fig.P99Ms = toMs(m[2], m[3]), toMs(m[4], m[5])
		}
		if m := lostLine.FindStringSubmatch(sc.Text()); m != nil {
			fig.Lost, _ = strconv.Atoi(m[1])
			fig.Double, _ = strconv.Atoi(m[2])
		}
	}
	if fig.Throughput == 0 {
		return fig, fmt.Errorf("load test: no throughput line in %q", out)
	}
	return fig, nil
}

func toMs(v, unit string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	switch unit {
	case "µs":
		return f / 1000
	case "s":
		return f * 1000
	}
	return f
}

// run runs a command in dir with extra environment, failing with its output.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
