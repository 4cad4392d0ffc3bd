package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/payhook/payhook/internal/emulators"
)

// The Runtime Interface Emulator, built from its Go module on the module proxy.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

// InstallRIE builds aws-lambda-rie into binDir with `go install` (GOBIN=binDir) unless
// the pinned version is already there, and returns its path. Output of the go command
// goes to log (nil discards it).
func InstallRIE(ctx context.Context, binDir string, log io.Writer) (string, error) {
	path := filepath.Join(binDir, "aws-lambda-rie")
	stamp := path + ".version"
	if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == RIEVersion {
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			return path, nil
		}
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return "", fmt.Errorf("install the Lambda Runtime Interface Emulator: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("install the Lambda Runtime Interface Emulator: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "install", RIEModule+"@"+RIEVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+abs, "GOFLAGS=-mod=mod", "GOWORK=off")
	cmd.Dir = abs // outside any module: go install pkg@version ignores the current one
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, log), io.MultiWriter(&out, log)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install the Lambda Runtime Interface Emulator (go install %s@%s): %w\n%s", RIEModule, RIEVersion, err, out.String())
	}
	if err := os.WriteFile(stamp, []byte(RIEVersion+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("install the Lambda Runtime Interface Emulator: %w", err)
	}
	return path, nil
}

// BuildBootstraps builds each package (an import path or ./relative directory of the
// module at root, keyed by name) for the host with -tags lambda.norpc and makes it the
// Lambda bootstrap <outDir>/<name>/bootstrap. It runs `go install` with GOBIN=<outDir>/.bin
// (one go command for all packages, so they compile and link in parallel), which relinks
// only what changed: a second start with unchanged sources costs a fraction of a second.
// The bootstraps are hard links to the installed binaries. It returns the bootstrap paths
// by name.
func BuildBootstraps(ctx context.Context, root, outDir string, pkgs map[string]string, log io.Writer) (map[string]string, error) {
	if len(pkgs) == 0 {
		return map[string]string{}, nil
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("build functions: %w", err)
	}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	// go install names each binary after the last element of its package path, so
	// packages with the same last element go to different GOBIN directories.
	groups := [][]string{}
	seen := map[string]int{}
	for _, n := range names {
		base := filepath.Base(pkgs[n])
		g := seen[base]
		if g == len(groups) {
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], n)
		seen[base] = g + 1
	}
	out := map[string]string{}
	for gi, group := range groups {
		bin := filepath.Join(absOut, ".bin", strconv.Itoa(gi))
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return nil, fmt.Errorf("build functions: %w", err)
		}
		args := []string{"install", "-tags", "lambda.norpc"}
		for _, n := range group {
			args = append(args, pkgs[n])
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+bin)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if log != nil {
			cmd.Stdout, cmd.Stderr = io.MultiWriter(&buf, log), io.MultiWriter(&buf, log)
		}
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("build functions (GOBIN=%s go %s): %w\n%s", bin, strings.Join(args, " "), err, buf.String())
		}
		for _, n := range group {
			dst, err := linkBootstrap(filepath.Join(bin, filepath.Base(pkgs[n])), filepath.Join(absOut, n))
			if err != nil {
				return nil, fmt.Errorf("build functions: %w", err)
			}
			out[n] = dst
		}
	}
	return out, nil
}

// linkBootstrap makes dir/bootstrap the installed binary src (a hard link, or a copy
// where links are not possible).
func linkBootstrap(src, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "bootstrap")
	si, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	if di, err := os.Stat(dst); err == nil && os.SameFile(si, di) {
		return dst, nil
	}
	tmp := dst + ".new"
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		b, rerr := os.ReadFile(src)
		if rerr != nil {
			return "", rerr
		}
		if werr := os.WriteFile(tmp, b, 0o755); werr != nil {
			return "", werr
		}
	}
	return dst, os.Rename(tmp, dst)
}

// Invoker invokes a function synchronously (RequestResponse).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (*Result, error)
}

// Result is the outcome of an invocation that reached the function.
type Result struct {
	// Payload is the function's response, or its error document.
	Payload []byte
	// Error is set when the function failed (Lambda's X-Amz-Function-Error: Unhandled):
	// it returned an error, panicked, timed out or its runtime exited.
	Error *FunctionError
	// Duration is how long the invocation took, queueing for an instance included.
	Duration time.Duration
}

// FunctionError is a failed invocation, as Lambda reports it.
type FunctionError struct {
	// Type is errorType, e.g. errorString, Sandbox.Timedout or Runtime.ExitError.
	Type string `json:"errorType"`
	// Message is errorMessage.
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Runtime starts functions under the Lambda Runtime Interface Emulator.
type Runtime struct {
	// RIE is the path to aws-lambda-rie (see InstallRIE).
	RIE string
	// Env is added to every function's environment: the SDK environment that points
	// the functions at the emulators (Endpoints.SDKEnv).
	Env map[string]string
	// LogDir receives one log file per function, <LogicalID>.log ("" discards output).
	LogDir string
	// Console, when set, also receives every function's output, each line prefixed with
	// the function's logical id.
	Console io.Writer
	// MaxInstances caps the RIE processes per function (default 4); a function's
	// ReservedConcurrentExecutions lowers it further.
	MaxInstances int

	consoleMu sync.Mutex
}

// Function is a running function: a pool of RIE processes, each running the function's
// bootstrap and serving one invocation at a time, like a Lambda execution environment.
// The pool starts with one process and grows on demand up to its maximum, as Lambda adds
// execution environments; an invocation beyond that waits for a free process.
//
// Why a pool: the RIE's classic mode serves one invocation at a time, and a second
// concurrent request does not queue, it crashes the emulator (nil pointer dereference in
// rapidcore). Its "managed instances" mode (AWS_LAMBDA_MAX_CONCURRENCY) would run
// several invocations in one runtime, but it only looks for the bootstrap in
// /var/runtime, /var/task or /opt and runs it as uid 993: it is made for containers, and
// it would not isolate invocations from each other as Lambda does. On a 2-core machine
// the ingest path (API → ingest → DynamoDB Local, fauxqs) measured, at 8 concurrent
// senders: 102 requests/s with 1 environment (p50 78 ms), 100 with 2, 119 with 4 (p50
// 66 ms); sequential requests take 13 ms. The emulators, not the functions, bound
// throughput there; the default of 4 keeps invocations from queueing behind each other
// at a cost of about 28 MB per extra environment (RIE and runtime).
type Function struct {
	// Spec is the function's specification.
	Spec FunctionSpec
	// Bootstrap is the path of the host binary run by the RIE.
	Bootstrap string

	rt    *Runtime
	env   []string
	out   io.Writer
	file  *os.File
	max   int
	slots chan struct{}

	mu     sync.Mutex
	idle   []*instance
	all    map[*instance]bool
	closed bool
}

type instance struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// Start starts the function's first RIE process and returns the function.
func (rt *Runtime) Start(ctx context.Context, spec FunctionSpec, bootstrap string) (*Function, error) {
	if rt.RIE == "" {
		return nil, errors.New("start function: Runtime.RIE is not set")
	}
	max := rt.MaxInstances
	if max <= 0 {
		max = 4
	}
	if spec.ReservedConcurrency > 0 && spec.ReservedConcurrency < max {
		max = spec.ReservedConcurrency
	}
	f := &Function{Spec: spec, Bootstrap: bootstrap, rt: rt, max: max,
		slots: make(chan struct{}, max), all: map[*instance]bool{}, out: io.Discard}
	f.env = functionEnv(spec, bootstrap, rt.Env)
	if rt.LogDir != "" {
		if err := os.MkdirAll(rt.LogDir, 0o755); err != nil {
			return nil, fmt.Errorf("start function %s: %w", spec.LogicalID, err)
		}
		file, err := os.OpenFile(filepath.Join(rt.LogDir, spec.LogicalID+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("start function %s: %w", spec.LogicalID, err)
		}
		f.file, f.out = file, file
	}
	if rt.Console != nil {
		pw := &prefixWriter{mu: &rt.consoleMu, w: rt.Console, prefix: "[" + spec.LogicalID + "] "}
		if f.file != nil {
			f.out = io.MultiWriter(f.file, pw)
		} else {
			f.out = pw
		}
	}
	in, err := f.spawn()
	if err != nil {
		f.Stop()
		return nil, err
	}
	f.mu.Lock()
	f.idle = append(f.idle, in)
	f.mu.Unlock()
	return f, nil
}

// LogPath returns the function's log file ("" when logs are discarded).
func (f *Function) LogPath() string {
	if f.file == nil {
		return ""
	}
	return f.file.Name()
}

// MaxInstances is the most RIE processes the function runs at once.
func (f *Function) MaxInstances() int { return f.max }

// functionEnv is the environment Lambda gives a function (the subset that matters to a
// Go runtime), the SDK environment and the function's own variables, which win.
func functionEnv(spec FunctionSpec, bootstrap string, sdk map[string]string) []string {
	m := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                filepath.Dir(bootstrap),
		"LAMBDA_RUNTIME_DIR":              filepath.Dir(bootstrap),
		"_HANDLER":                        "bootstrap",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_LAMBDA_FUNCTION_NAME":        spec.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(spec.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(spec.Timeout / time.Second)),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + spec.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
	}
	for k, v := range sdk {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range spec.Env {
		m[k] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(m))
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}

func (f *Function) spawn() (*instance, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		in, err := f.spawnOnce()
		if err == nil {
			return in, nil
		}
		lastErr = err // most likely a port taken between choosing and binding it: retry
	}
	return nil, fmt.Errorf("start function %s: %w", f.Spec.LogicalID, lastErr)
}

func (f *Function) spawnOnce() (*instance, error) {
	port, err := emulators.FreePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := emulators.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(f.rt.RIE,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		f.Bootstrap)
	cmd.Dir = filepath.Dir(f.Bootstrap)
	cmd.Env = f.env
	cmd.Stdout, cmd.Stderr = f.out, f.out
	// The runtime inherits the output pipe; don't wait on it once the RIE is gone.
	cmd.WaitDelay = 2 * time.Second
	// Own process group (stopped as a group), and killed if this process dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", f.rt.RIE, err)
	}
	in := &instance{cmd: cmd, url: "http://" + addr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(in.done) }()
	if err := waitListening(addr, in.done, 10*time.Second); err != nil {
		in.stop()
		return nil, fmt.Errorf("runtime interface emulator: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		go in.stop()
		return nil, errors.New("function stopped")
	}
	f.all[in] = true
	return in, nil
}

func (in *instance) stop() {
	if in.cmd.Process == nil {
		return
	}
	kids := descendants(in.cmd.Process.Pid)
	stopGroup(in.cmd.Process.Pid, kids, in.done, 3*time.Second)
}

func (in *instance) exited() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

// acquire takes a free instance, starting one when all are busy and the pool may grow.
func (f *Function) acquire(ctx context.Context) (*instance, error) {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: waiting for a free execution environment: %w", f.Spec.LogicalID, ctx.Err())
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		<-f.slots
		return nil, fmt.Errorf("invoke %s: function stopped", f.Spec.LogicalID)
	}
	for len(f.idle) > 0 {
		in := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if !in.exited() {
			f.mu.Unlock()
			return in, nil
		}
		delete(f.all, in)
	}
	f.mu.Unlock()
	in, err := f.spawn()
	if err != nil {
		<-f.slots
		return nil, err
	}
	return in, nil
}

func (f *Function) release(in *instance, broken bool) {
	f.mu.Lock()
	if broken || f.closed || in.exited() {
		delete(f.all, in)
		f.mu.Unlock()
		go in.stop()
	} else {
		f.idle = append(f.idle, in)
		f.mu.Unlock()
	}
	<-f.slots
}

// Invoke runs the function once with payload, as a synchronous (RequestResponse)
// invocation through the RIE. A function error is reported in Result.Error; an error
// return means the invocation did not reach a working runtime.
func (f *Function) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	start := time.Now()
	in, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	// The RIE enforces the function timeout itself; the margin covers a cold start.
	ictx, cancel := context.WithTimeout(ctx, f.Spec.Timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ictx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		f.release(in, false)
		return nil, fmt.Errorf("invoke %s: %w", f.Spec.LogicalID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rieClient.Do(req)
	if err != nil {
		// The RIE died or hung: replace the process.
		f.release(in, true)
		return nil, fmt.Errorf("invoke %s: runtime interface emulator: %w", f.Spec.LogicalID, err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		f.release(in, true)
		return nil, fmt.Errorf("invoke %s: read response: %w", f.Spec.LogicalID, err)
	}
	f.release(in, false)
	res := &Result{Payload: body, Duration: time.Since(start)}
	switch {
	case resp.StatusCode == http.StatusOK:
		res.Error = errorDocument(body)
	case resp.StatusCode == http.StatusBadGateway:
		// The runtime exited during init or the invocation.
		res.Error = errorDocument(body)
		if res.Error == nil {
			res.Error = &FunctionError{Type: "Runtime.ExitError", Message: "the function's runtime exited during initialization; see " + f.LogPath()}
			res.Payload, _ = json.Marshal(res.Error)
		}
	default:
		return nil, fmt.Errorf("invoke %s: runtime interface emulator answered %d: %s", f.Spec.LogicalID, resp.StatusCode, truncate(body, 200))
	}
	return res, nil
}

var rieClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}}

// errorDocument recognizes the RIE's function error payloads: the runtime's error
// document ({"errorType", "errorMessage"[, "stackTrace"]}) and its timeout message. The
// RIE answers both with 200, unlike Lambda, which flags them with X-Amz-Function-Error;
// a function that returns exactly such a document as its result is therefore also
// taken for a failure.
func errorDocument(body []byte) *FunctionError {
	trimmed := bytes.TrimSpace(body)
	if bytes.HasPrefix(trimmed, []byte("Task timed out after")) {
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(trimmed)}
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		return nil
	}
	if _, ok := doc["errorType"]; !ok {
		return nil
	}
	if _, ok := doc["errorMessage"]; !ok {
		return nil
	}
	for k := range doc {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" && k != "requestId" {
			return nil
		}
	}
	var fe FunctionError
	if err := json.Unmarshal(trimmed, &fe); err != nil {
		return nil
	}
	return &fe
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Pids returns the process ids of the function's RIE processes and their runtimes.
func (f *Function) Pids() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for in := range f.all {
		if in.cmd.Process != nil && !in.exited() {
			out = append(out, in.cmd.Process.Pid)
			out = append(out, descendants(in.cmd.Process.Pid)...)
		}
	}
	sort.Ints(out)
	return out
}

// Stop stops every process of the function and waits for them to exit. Invocations
// still running fail.
func (f *Function) Stop() {
	f.mu.Lock()
	f.closed = true
	all := make([]*instance, 0, len(f.all))
	for in := range f.all {
		all = append(all, in)
	}
	f.all = map[*instance]bool{}
	f.idle = nil
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		wg.Add(1)
		go func() { defer wg.Done(); in.stop() }()
	}
	wg.Wait()
	if f.file != nil {
		_ = f.file.Close()
	}
}
