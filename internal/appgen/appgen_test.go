package appgen

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/nodebin"
)

func versions(t *testing.T) Versions {
	t.Helper()
	b, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	v, err := VersionsFrom(b)
	require.NoError(t, err)
	return v
}

// goIn runs the go command in dir with env added, failing the test with its output.
func goIn(t *testing.T, ctx context.Context, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
}

// TestWrittenServiceBuildsAndSynthesizes writes a service, then does what its README says:
// resolves its modules, vets it, builds both functions for Lambda and synthesizes the app,
// and checks the template holds the ingress, the worker and their alarms.
func TestWrittenServiceBuildsAndSynthesizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and synthesizes a whole app")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	constructs, err := filepath.Abs("../../constructs")
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "hooks")
	written, err := Write(Options{Dir: dir, Module: "example.com/shipping/hooks", Name: "shipping-hooks", Path: "carrier",
		Versions: versions(t), ConstructsDir: constructs})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"README.md", "cdk.json", "go.mod", "cmd/app/main.go", "functions/receiver/main.go",
		"functions/worker/main.go"}, written)

	goIn(t, ctx, dir, nil, "mod", "tidy")
	goIn(t, ctx, dir, nil, "vet", "./...")
	for _, fn := range []string{"receiver", "worker"} {
		goIn(t, ctx, dir, []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, "build", "-tags", "lambda.norpc", "-trimpath",
			"-o", filepath.Join("build", fn, "bootstrap"), "./functions/"+fn)
	}
	node, err := nodebin.Dir("../..")
	require.NoError(t, err)
	out := filepath.Join(dir, "cdk.out")
	goIn(t, ctx, dir, []string{"CDK_OUTDIR=" + out, "PATH=" + node + string(os.PathListSeparator) + os.Getenv("PATH")}, "run", "./cmd/app")

	b, err := os.ReadFile(filepath.Join(out, "shipping-hooks.template.json"))
	require.NoError(t, err)
	var tmpl struct {
		Resources map[string]struct{ Type string }
		Outputs   map[string]any
	}
	require.NoError(t, json.Unmarshal(b, &tmpl))
	count := map[string]int{}
	for _, r := range tmpl.Resources {
		count[r.Type]++
	}
	assert.Equal(t, 2, count["AWS::SQS::Queue"], "the worker's queue and dead-letter queue")
	assert.Equal(t, 2, count["AWS::Lambda::Function"], "receiver and worker")
	assert.Equal(t, 1, count["AWS::ApiGateway::RestApi"])
	assert.Equal(t, 1, count["AWS::WAFv2::WebACL"])
	assert.GreaterOrEqual(t, count["AWS::CloudWatch::Alarm"], 8, "the constructs' alarms")
	assert.Contains(t, tmpl.Outputs, "Endpoint")
	assert.Contains(t, string(b), "/carrier", "the route's path")
}

func TestWriteRefusesWhatCannotBuild(t *testing.T) {
	full := filepath.Join(t.TempDir(), "full")
	require.NoError(t, os.MkdirAll(full, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(full, "keep.txt"), nil, 0o644))
	_, err := Write(Options{Dir: full, Module: "Not A Module", Name: "X", Path: "a/b", Versions: versions(t)})
	require.Error(t, err)
	for _, want := range []string{`module "Not A Module"`, `name "X"`, `path "a/b"`, "is not empty: nothing written"} {
		assert.Contains(t, err.Error(), want)
	}
	entries, err := os.ReadDir(full)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing was written")
}

func TestVersionsFromNamesWhatIsMissing(t *testing.T) {
	_, err := VersionsFrom([]byte("module x\n\ngo 1.26\n\nrequire github.com/aws/jsii-runtime-go v1.0.0\n"))
	assert.ErrorContains(t, err, "github.com/aws/aws-cdk-go/awscdk/v2")
	v := versions(t)
	assert.NotEmpty(t, v.CDK)
	assert.NotEmpty(t, v.PayhookConstructs)
}
