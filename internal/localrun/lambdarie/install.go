package lambdarie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
