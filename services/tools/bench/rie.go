package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/payhook/payhook/internal/localrun/procs"
)

// launch is one RIE process running one function's bootstrap.
type launch struct {
	cmd  *exec.Cmd
	addr string
	out  *lockedBuffer
}

// lockedBuffer collects a process's output safely while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start launches the RIE on a free loopback port with bootstrap and env, and waits until it
// listens. The function itself starts on the first invocation, as in Lambda.
func start(rie, bootstrap string, env []string) (*launch, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	api, err := freeAddr() // the runtime API: each launch its own, never the default 9001
	if err != nil {
		return nil, err
	}
	out := &lockedBuffer{}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bootstrap)
	cmd.Env = env
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Stdout, cmd.Stderr = out, out
	// Its own group, killed with bench if bench dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the RIE: %w", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return &launch{cmd: cmd, addr: addr, out: out}, nil
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return nil, fmt.Errorf("the RIE did not listen on %s: %s", addr, out.String())
		}
	}
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// invoke sends one event and returns the response and how long it took.
func (l *launch) invoke(ctx context.Context, event []byte) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+l.addr+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return nil, 0, err
	}
	t0 := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(t0)
	if err != nil || resp.StatusCode != http.StatusOK {
		return body, took, fmt.Errorf("invoke: status %d: %s %v", resp.StatusCode, body, err)
	}
	return body, took, nil
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initMs is the RIE's own INIT REPORT duration of the function's start.
func (l *launch) initMs() (float64, error) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := initReport.FindStringSubmatch(l.out.String()); m != nil {
			return strconv.ParseFloat(m[1], 64)
		}
	}
	return 0, fmt.Errorf("no INIT REPORT in the RIE's output")
}

// functionBytes counts the function's own output (its log lines and EMF records) and
// Lambda's START/END/REPORT lines, leaving out the emulator's own log.
func (l *launch) functionBytes() int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(l.out.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "(rapid)") {
			n += len(sc.Text()) + 1
		}
	}
	return n
}

// maxRSSMB is the peak resident memory (VmHWM) of the function process.
func (l *launch) maxRSSMB() float64 {
	var peak float64
	for _, pid := range procs.Descendants(l.cmd.Process.Pid) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				peak = max(peak, kb/1024)
			}
		}
	}
	return peak
}

// stop ends the function (its own group) and the RIE.
func (l *launch) stop() {
	for _, pid := range procs.Descendants(l.cmd.Process.Pid) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
	_ = l.cmd.Wait()
}
