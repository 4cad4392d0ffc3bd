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
	"strings"
	"time"

	"github.com/magefile/mage/mg"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cdkcli"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/contract/regionsrc"
	"github.com/payhook/payhook/internal/lambdabuild"
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
// envs/*.yaml plus the local-only ones, or with ENV=name that environment's stage alone
// (SUFFIX=s: its preview copy, payhook-<name>-<s>).
func Synth(ctx context.Context) error {
	return synth(ctx, os.Getenv("ENV"), os.Getenv("SUFFIX"))
}

// synth writes the cloud assembly of env ("" for the whole app), or of its preview copy
// named by suffix, to cdk.out.
func synth(ctx context.Context, env, suffix string) error {
	if env != "" { // a bad name or suffix is refused before anything builds
		if _, err := app.Target("envs", env, suffix); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	mg.CtxDeps(ctx, Build, npmTools)
	what := "the pipeline and every environment"
	switch {
	case env != "" && suffix != "":
		what = "preview " + env + "-" + suffix + " of environment " + env
	case env != "":
		what = "environment " + env
	}
	return timed("synth: "+what+" → "+outDir, func() error {
		if err := os.RemoveAll(outDir); err != nil {
			return err
		}
		return run(ctx, map[string]string{"CDK_OUTDIR": outDir, contract.SynthEnv: env, contract.SynthSuffix: suffix},
			"go", "run", "./cmd/cdk")
	})
}

// modules are payhook's Go modules: the root, the constructs (constructs/go.mod), which
// another team imports on its own, and the example app that imports them so.
var modules = []string{".", "constructs", "examples/ordersapp"}

// Test runs every test of both modules (unit, emulator-backed, synth and acceptance) with
// -count=1, because the Go test cache cannot see the files jsii reads.
func Test(ctx context.Context) error {
	mg.CtxDeps(ctx, Lint, npmTools)
	for _, m := range modules {
		if err := run(ctx, nil, "go", "-C", m, "test", "-count=1", "-timeout", "40m", "./..."); err != nil {
			return err
		}
	}
	return nil
}

// Lint fails when a Go file is not gofmt-formatted or `go vet ./...` reports a problem in
// either module.
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
	for _, m := range modules {
		if err := run(ctx, nil, "go", "-C", m, "vet", "./..."); err != nil {
			return err
		}
	}
	return nil
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

// Clean removes build/, cdk.out/ and .payhook/.
func Clean() error {
	for _, d := range []string{buildDir, outDir, ".payhook"} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
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
	// The project's Node 22 first on PATH: jsii runs on it (nodeEnv).
	cmd.Env = nodeEnv()
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
