// Package lambdabuild compiles Go Lambda functions into the `bootstrap` executables that
// the provided.al2023 runtime runs, and is the one owner of their build flags: Build makes
// payhook's services for Lambda (linux/arm64) reproducibly, so the same source gives the
// same bytes and the CDK asset hash changes only when the code does; Host makes any
// packages for this machine, incrementally, for the local runtime emulator.
package lambdabuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Tags are the build tags of every bootstrap: the provided runtimes need no RPC mode.
const Tags = "lambda.norpc"

// buildEnv is the go command's environment for a bootstrap: CGO off, plus extra.
func buildEnv(extra ...string) []string {
	return append(append(os.Environ(), "CGO_ENABLED=0"), extra...)
}

// Services are the Lambda services under services/, by directory name.
var Services = []string{"ingest", "accounting", "notifyfailures", "reconciler"}

// Target says what to build for.
type Target struct {
	// GOOS and GOARCH of the binary (Lambda: linux/arm64).
	GOOS, GOARCH string
}

// Lambda is the target of every payhook function: provided.al2023 on Graviton.
var Lambda = Target{GOOS: "linux", GOARCH: "arm64"}

// Build compiles every service of root into outDir/<service>/bootstrap for target.
// Flags: CGO off, -trimpath, no VCS stamping, -tags lambda.norpc (the provided runtimes
// need no RPC mode), stripped, empty build id.
func Build(ctx context.Context, root, outDir string, target Target) error {
	for _, svc := range Services {
		if err := BuildOne(ctx, root, outDir, svc, target); err != nil {
			return err
		}
	}
	return nil
}

// BuildOne compiles one service.
func BuildOne(ctx context.Context, root, outDir, service string, target Target) error {
	out := filepath.Join(outDir, service, "bootstrap")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", service, err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-tags", Tags,
		"-ldflags", "-s -w -buildid=", "-o", out, "./services/"+service)
	cmd.Dir = root
	cmd.Env = buildEnv("GOOS="+target.GOOS, "GOARCH="+target.GOARCH, "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %w\n%s", service, target.GOOS, target.GOARCH, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// Missing lists the services of outDir that have no bootstrap yet.
func Missing(outDir string) []string {
	var missing []string
	for _, svc := range Services {
		if _, err := os.Stat(filepath.Join(outDir, svc, "bootstrap")); err != nil {
			missing = append(missing, svc)
		}
	}
	return missing
}
