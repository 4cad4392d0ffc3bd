package localstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/secretsemu"
)

// testEnv is what TestMain starts once for the package's tests: the emulators, SDK
// clients on them, the RIE and the echo test function's bootstrap.
var testEnv struct {
	endpoints Endpoints
	clients   Clients
	dynamo    *emulators.Process
	queues    *emulators.Process
	secrets   *secretsemu.Server
	rie       string
	echo      string
	root      string
}

var stackSeq atomic.Int64

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	var log io.Writer
	if os.Getenv("PAYHOOK_EMULATOR_LOGS") != "" {
		log = os.Stderr
	}
	tools, err := emulators.FindTools("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	testEnv.root = tools.Root
	if testEnv.dynamo, err = tools.StartDynamoDB(ctx, log); err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	defer testEnv.dynamo.Stop()
	if testEnv.queues, err = tools.StartFauxqs(ctx, log); err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	defer testEnv.queues.Stop()
	if testEnv.secrets, err = secretsemu.Start("127.0.0.1:0", "us-east-1", LocalAccount); err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	defer testEnv.secrets.Close()
	testEnv.endpoints = Endpoints{Region: "us-east-1", DynamoDB: testEnv.dynamo.URL, Queues: testEnv.queues.URL, SecretsManager: testEnv.secrets.URL}
	if testEnv.clients, err = NewClients(testEnv.endpoints); err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	// The RIE and the echo function persist between runs in the temp directory; go
	// install and go build are no-ops when nothing changed.
	cache := filepath.Join(os.TempDir(), "payhook-localstack-test")
	if testEnv.rie, err = InstallRIE(ctx, filepath.Join(cache, "bin"), nil); err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	built, err := BuildBootstraps(ctx, tools.Root, filepath.Join(cache, "functions"),
		map[string]string{"echo": "./internal/localstack/testdata/echo"}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localstack tests:", err)
		return 1
	}
	testEnv.echo = built["echo"]
	return m.Run()
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// stackName returns a unique stack name for a test, so that resource names never clash.
func stackName(t testing.TB) string {
	n := unsafeName.ReplaceAllString(t.Name(), "-")
	if len(n) > 24 {
		n = n[:24]
	}
	return n + "-" + strconv.FormatInt(stackSeq.Add(1), 10)
}

// provisionFixture provisions a testdata template under a unique stack name.
func provisionFixture(t testing.TB, file string, opts Options) *Stack {
	t.Helper()
	tmpl, err := ParseTemplate(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if opts.StackName == "" {
		opts.StackName = stackName(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := ProvisionWith(ctx, tmpl, testEnv.clients, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startEcho runs the echo test function under the RIE with spec's environment.
func startEcho(t testing.TB, spec FunctionSpec, max int) *Function {
	t.Helper()
	rt := &Runtime{RIE: testEnv.rie, Env: testEnv.endpoints.SDKEnv(), LogDir: t.TempDir(), MaxInstances: max}
	if os.Getenv("PAYHOOK_FUNCTION_LOGS") != "" {
		rt.Console = os.Stderr
	}
	f, err := rt.Start(context.Background(), spec, testEnv.echo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}
