package lambdarie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/localrun/procs"
)

// Runtime starts functions under the Lambda Runtime Interface Emulator.
type Runtime struct {
	// RIE is the path to aws-lambda-rie (see InstallRIE).
	RIE string
	// Env is added to every function's environment: the SDK environment that points
	// the functions at the emulators (emulators.SDKEnv).
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
	if err := f.openOutput(); err != nil {
		return nil, err
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

// openOutput directs the function's output to its log file and the console.
func (f *Function) openOutput() error {
	rt, spec := f.rt, f.Spec
	if rt.LogDir != "" {
		if err := os.MkdirAll(rt.LogDir, 0o755); err != nil {
			return fmt.Errorf("start function %s: %w", spec.LogicalID, err)
		}
		file, err := os.OpenFile(filepath.Join(rt.LogDir, spec.LogicalID+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("start function %s: %w", spec.LogicalID, err)
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
	return nil
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
	if err := procs.WaitListening(addr, in.done, 10*time.Second); err != nil {
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
	kids := procs.Descendants(in.cmd.Process.Pid)
	procs.StopGroup(in.cmd.Process.Pid, kids, in.done, 3*time.Second)
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

// Pids returns the process ids of the function's RIE processes and their runtimes.
func (f *Function) Pids() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for in := range f.all {
		if in.cmd.Process != nil && !in.exited() {
			out = append(out, in.cmd.Process.Pid)
			out = append(out, procs.Descendants(in.cmd.Process.Pid)...)
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
