// Package procs holds the process utilities of the local runner: finding a process's
// descendants, telling whether a process is alive, stopping a process group with a grace
// period, and waiting for a process to listen. They read Linux's /proc.
package procs

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Descendants returns the pids of every process below pid, read from
// /proc/<pid>/task/<tid>/children (children of a process that died are re-parented and
// are no longer found, which is why they are collected before a process is stopped).
func Descendants(pid int) []int {
	var out []int
	seen := map[int]bool{pid: true}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				c, err := strconv.Atoi(f)
				if err == nil && !seen[c] {
					seen[c] = true
					out = append(out, c)
					queue = append(queue, c)
				}
			}
		}
	}
	return out
}

// Alive reports whether a process exists and is not a zombie.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// StopGroup sends SIGTERM to the process group of pid and to the groups of the given
// descendants, waits up to grace for done (closed when pid has been reaped), then
// SIGKILLs whatever is left and waits for it.
func StopGroup(pid int, kids []int, done <-chan struct{}, grace time.Duration) {
	signalAll := func(sig syscall.Signal) {
		_ = syscall.Kill(-pid, sig)
		for _, k := range kids {
			_ = syscall.Kill(-k, sig)
			_ = syscall.Kill(k, sig)
		}
	}
	signalAll(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		signalAll(syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(grace):
		}
	}
	deadline := time.Now().Add(grace)
	for _, k := range kids {
		for Alive(k) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if Alive(k) {
			_ = syscall.Kill(-k, syscall.SIGKILL)
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
	}
}

// WaitListening waits until addr accepts TCP connections, done is closed, or timeout.
func WaitListening(addr string, done <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-done:
			return errors.New("process exited before it listened on " + addr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
		}
		time.Sleep(15 * time.Millisecond)
	}
}
