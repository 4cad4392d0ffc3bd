// Package testenv is the shared test setup of the local runner's packages: Main starts
// the emulators (DynamoDB Local, fauxqs, the Secrets Manager endpoint) once per test
// binary, installs the RIE and builds the echo test function (testdata/echo); the helpers
// provision the fixture templates of testdata under unique stack names and run the echo
// function under the RIE.
package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/lambdabuild"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/secretsemu"
)

// env is what Main starts once for a package's tests.
var env struct {
	endpoints provision.Endpoints
	clients   provision.Clients
	rie       string
	echo      string
	root      string
}

var stackSeq atomic.Int64

// Main is a package's TestMain: it starts the test environment, runs the tests, stops it
// and exits. Set PAYHOOK_EMULATOR_LOGS to see the emulators' output.
func Main(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	var log io.Writer
	if os.Getenv("PAYHOOK_EMULATOR_LOGS") != "" {
		log = os.Stderr
	}
	tools, err := emulators.FindTools("")
	if err != nil {
		return fail(err)
	}
	env.root = tools.Root
	dynamo, err := tools.StartDynamoDB(ctx, log)
	if err != nil {
		return fail(err)
	}
	defer dynamo.Stop()
	queues, err := tools.StartFauxqs(ctx, log)
	if err != nil {
		return fail(err)
	}
	defer queues.Stop()
	secrets, err := secretsemu.Start("127.0.0.1:0", "us-east-1", cfn.LocalAccount)
	if err != nil {
		return fail(err)
	}
	defer secrets.Close()
	env.endpoints = provision.Endpoints{Region: "us-east-1", DynamoDB: dynamo.URL, Queues: queues.URL, SecretsManager: secrets.URL}
	if env.clients, err = provision.NewClients(env.endpoints); err != nil {
		return fail(err)
	}
	if err := buildFunctions(ctx); err != nil {
		return fail(err)
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "local runner tests:", err)
	return 1
}

// buildFunctions installs the RIE and builds the echo function. Both persist between runs
// in WorkDir; go install and go build are no-ops when nothing changed.
func buildFunctions(ctx context.Context) error {
	var err error
	if env.rie, err = lambdarie.InstallRIE(ctx, filepath.Join(WorkDir(), "bin"), nil); err != nil {
		return err
	}
	echo, err := filepath.Rel(env.root, Fixture("echo"))
	if err != nil {
		return fmt.Errorf("echo function: %w", err)
	}
	built, err := lambdabuild.Host(ctx, env.root, filepath.Join(WorkDir(), "functions"),
		map[string]string{"echo": "./" + filepath.ToSlash(echo)}, nil)
	if err != nil {
		return err
	}
	env.echo = built["echo"]
	return nil
}

// WorkDir is the tests' work directory (RIE, builds), kept between runs.
func WorkDir() string { return filepath.Join(os.TempDir(), "payhook-localrun-test") }

// Root is the project root.
func Root() string { return env.root }

// Endpoints are the emulators' URLs.
func Endpoints() provision.Endpoints { return env.endpoints }

// Clients are SDK clients on the emulators.
func Clients() provision.Clients { return env.clients }

// RIE is the installed Runtime Interface Emulator.
func RIE() string { return env.rie }

// EchoBootstrap is the echo test function's bootstrap.
func EchoBootstrap() string { return env.echo }

// Fixture returns the path of a file or directory of testdata.
func Fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// StackName returns a unique stack name for a test, so that resource names never clash.
func StackName(t testing.TB) string {
	n := unsafeName.ReplaceAllString(t.Name(), "-")
	if len(n) > 24 {
		n = n[:24]
	}
	return n + "-" + strconv.FormatInt(stackSeq.Add(1), 10)
}

// Template parses a testdata template.
func Template(t testing.TB, file string) *cfn.Template {
	t.Helper()
	tmpl, err := cfn.ParseTemplate(Fixture(file))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// Provision provisions a testdata template under a unique stack name.
func Provision(t testing.TB, file string, opts provision.Options) *provision.Stack {
	t.Helper()
	return ProvisionTemplate(t, Template(t, file), opts)
}

// ProvisionTemplate provisions a template under a unique stack name (unless opts names
// one).
func ProvisionTemplate(t testing.TB, tmpl *cfn.Template, opts provision.Options) *provision.Stack {
	t.Helper()
	if opts.StackName == "" {
		opts.StackName = StackName(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := provision.ProvisionWith(ctx, tmpl, env.clients, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// EchoSpec is a specification for the echo function with a unique name.
func EchoSpec(t testing.TB) lambdarie.FunctionSpec {
	return lambdarie.FunctionSpec{LogicalID: "Echo", Name: "echo-" + StackName(t), MemoryMB: 128, Timeout: 2 * time.Second,
		Env: map[string]string{"PAYHOOK_SERVICE": "echo"}}
}

// StartEcho runs the echo test function under the RIE with spec's environment, at most max
// instances; the test's cleanup stops it. Set PAYHOOK_FUNCTION_LOGS to see its output.
func StartEcho(t testing.TB, spec lambdarie.FunctionSpec, max int) *lambdarie.Function {
	t.Helper()
	return StartFunction(t, spec, env.echo, max)
}

// StartFunction runs a bootstrap under the RIE as the function spec.
func StartFunction(t testing.TB, spec lambdarie.FunctionSpec, bootstrap string, max int) *lambdarie.Function {
	t.Helper()
	rt := &lambdarie.Runtime{RIE: env.rie, Env: env.endpoints.SDKEnv(), LogDir: t.TempDir(), MaxInstances: max}
	if os.Getenv("PAYHOOK_FUNCTION_LOGS") != "" {
		rt.Console = os.Stderr
	}
	f, err := rt.Start(context.Background(), spec, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}
