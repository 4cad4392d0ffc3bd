package appgen

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/nodebin"
)

func versions(t *testing.T) Versions {
	t.Helper()
	goMod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	pkg, err := os.ReadFile("../../package.json")
	require.NoError(t, err)
	v, err := VersionsFrom(goMod, pkg)
	require.NoError(t, err)
	return v
}

// command is the go command in dir with the project's Node first on PATH (the CDK runs on
// it).
func command(t *testing.T, ctx context.Context, dir string, args ...string) *exec.Cmd {
	t.Helper()
	node, err := nodebin.Dir("../..")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+node+string(os.PathListSeparator)+os.Getenv("PATH"))
	return cmd
}

// goIn runs the go command in dir, failing the test with its output, and returns it.
func goIn(t *testing.T, ctx context.Context, dir string, args ...string) string {
	t.Helper()
	out, err := command(t, ctx, dir, args...).CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestWrittenServiceRunsItsTestsSynthAndLocally writes a service outside the repository
// and does what its README says: its own tests, its synth, and a local run under payhook's
// runner, where one signed event sent twice is recorded once.
func TestWrittenServiceRunsItsTestsSynthAndLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, tests, synthesizes and runs a whole app")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "hooks")
	written, err := Write(Options{Dir: dir, Module: "example.com/shipping/hooks", Name: "shipping-hooks", Path: "carrier",
		Versions: versions(t), ConstructsDir: filepath.Join(root, "constructs"), PayhookDir: root})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"README.md", ".gitignore", "cdk.json", "go.mod", "mage.go", "magefile.go",
		"envs/dev.yaml", "envs/staging.yaml", "envs/prod.yaml", "cmd/app/main.go",
		"internal/env/env.go", "internal/env/env_test.go", "internal/event/event.go", "internal/event/event_test.go",
		"internal/signature/signature.go", "internal/signature/signature_test.go",
		"functions/receiver/main.go", "functions/receiver/main_test.go", "functions/worker/main.go", "functions/worker/main_test.go"}, written)

	goIn(t, ctx, dir, "mod", "tidy")
	unformatted, err := exec.CommandContext(ctx, "gofmt", "-l", dir).CombinedOutput()
	require.NoError(t, err)
	assert.Empty(t, string(unformatted), "gofmt -l")
	out := goIn(t, ctx, dir, "run", "mage.go", "test")
	for _, pkg := range []string{"functions/receiver", "functions/worker", "internal/env", "internal/event", "internal/signature"} {
		assert.Regexp(t, `ok\s+example.com/shipping/hooks/`+pkg, out, "the app's own tests ran")
	}
	goIn(t, ctx, dir, "run", "mage.go", "synth", "ENV=prod")
	checkTemplate(t, filepath.Join(dir, "cdk.out", "shipping-hooks-prod.template.json"))
	_, err = command(t, ctx, dir, "run", "mage.go", "synth", "ENV=qa").CombinedOutput()
	assert.Error(t, err, "an environment without a file")

	st := startLocal(t, ctx, dir)
	unsigned, err := http.Post(st.Endpoint, "application/json", strings.NewReader(`{"id":"evt_x","type":"sample"}`))
	require.NoError(t, err)
	unsigned.Body.Close()
	assert.Equal(t, http.StatusForbidden, unsigned.StatusCode, "no API key")

	goIn(t, ctx, dir, "run", "mage.go", "send", "EVENT_ID=evt_gen_1")
	items := waitRecorded(t, ctx, st, 1)
	assert.Equal(t, "evt_gen_1", items[0])
	goIn(t, ctx, dir, "run", "mage.go", "send", "EVENT_ID=evt_gen_1")
	goIn(t, ctx, dir, "run", "mage.go", "send", "EVENT_ID=evt_gen_2")
	items = waitRecorded(t, ctx, st, 2)
	assert.ElementsMatch(t, []string{"evt_gen_1", "evt_gen_2"}, items, "the redelivered event is recorded once")
}

// checkTemplate checks the synthesized stack holds the ingress, the worker, the table,
// the secret and their alarms.
func checkTemplate(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
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
	assert.Equal(t, 1, count["AWS::DynamoDB::Table"])
	assert.Equal(t, 1, count["AWS::SecretsManager::Secret"])
	assert.Equal(t, 1, count["AWS::ApiGateway::RestApi"])
	assert.Equal(t, 1, count["AWS::WAFv2::WebACL"])
	assert.GreaterOrEqual(t, count["AWS::CloudWatch::Alarm"], 8, "the constructs' alarms")
	for _, o := range []string{"Endpoint", "SigningSecretArn", "TableName"} {
		assert.Contains(t, tmpl.Outputs, o)
	}
	assert.Contains(t, string(b), "/carrier", "the route's path")
	assert.Contains(t, string(b), `"222222222222"`, "prod's account from envs/prod.yaml")
}

// localState is what the test reads of the app's local state file.
type localState struct {
	Running   bool              `json:"running"`
	Endpoint  string            `json:"endpoint"`
	Region    string            `json:"region"`
	Outputs   map[string]string `json:"outputs"`
	Emulators struct {
		DynamoDB string `json:"dynamodb"`
	} `json:"emulators"`
}

// startLocal starts the app's `local` target in its own process group, waits until its
// state file says it runs, and stops it (SIGINT, as Ctrl-C) when the test ends.
func startLocal(t *testing.T, ctx context.Context, dir string) localState {
	t.Helper()
	// Not ctx: the test's context ends before its cleanups, which stop the run with SIGINT.
	cmd := command(t, context.Background(), dir, "run", "mage.go", "local")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-exited:
			// `go run` exits 1 whenever it was interrupted, whatever its program's status:
			// what tells a clean stop is the runner's report and its state file.
			assert.Contains(t, out.String(), "no process left", "Ctrl-C stops every process the run started")
			var st localState
			b, err := os.ReadFile(filepath.Join(dir, ".local", "state.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &st))
			assert.False(t, st.Running, "the state file says the stack stopped")
		case <-time.After(90 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("the local run did not stop on SIGINT:\n%s", out.String())
		}
	})
	path := filepath.Join(dir, ".local", "state.json")
	for {
		var st localState
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &st) == nil && st.Running {
			return st
		}
		select {
		case err := <-exited:
			t.Fatalf("go run mage.go local exited (%v):\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("the local run did not start:\n%s", out.String())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitRecorded waits until the app's table holds n items and returns their ids.
func waitRecorded(t *testing.T, ctx context.Context, st localState, n int) []string {
	t.Helper()
	db := dynamodb.New(dynamodb.Options{Region: st.Region, BaseEndpoint: aws.String(st.Emulators.DynamoDB),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var ids []string
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(st.Outputs["TableName"]), ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		ids = ids[:0]
		for _, item := range out.Items {
			if id, ok := item["id"].(*types.AttributeValueMemberS); ok {
				ids = append(ids, id.Value)
			}
		}
		if len(ids) >= n {
			// A redelivery still in the queue would show within the poller's next batches.
			time.Sleep(2 * time.Second)
			again, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(st.Outputs["TableName"]), ConsistentRead: aws.Bool(true)})
			require.NoError(t, err)
			require.Len(t, again.Items, len(ids))
			return ids
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the table holds %v, want %d items", ids, n)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the command's writers and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWriteRefusesWhatCannotBuild(t *testing.T) {
	full := filepath.Join(t.TempDir(), "full")
	require.NoError(t, os.MkdirAll(full, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(full, "keep.txt"), nil, 0o644))
	_, err := Write(Options{Dir: full, Module: "Not A Module", Name: "X", Path: "a/b", Versions: versions(t), PayhookDir: "relative"})
	require.Error(t, err)
	for _, want := range []string{`module "Not A Module"`, `name "X"`, `path "a/b"`, `payhook dir "relative"`, "is not empty: nothing written"} {
		assert.Contains(t, err.Error(), want)
	}
	entries, err := os.ReadDir(full)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing was written")
}

func TestVersionsFromNamesWhatIsMissing(t *testing.T) {
	_, err := VersionsFrom([]byte("module x\n\ngo 1.26\n\nrequire github.com/aws/jsii-runtime-go v1.0.0\n"), []byte(`{}`))
	assert.ErrorContains(t, err, "github.com/aws/aws-cdk-go/awscdk/v2")
	assert.ErrorContains(t, err, "aws-cdk (package.json)")
	v := versions(t)
	assert.NotEmpty(t, v.CDK)
	assert.NotEmpty(t, v.PayhookConstructs)
	assert.NotEmpty(t, v.CDKCLI)
}
