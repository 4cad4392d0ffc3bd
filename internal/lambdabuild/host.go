package lambdabuild

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Host builds each package (an import path or ./relative directory of the module at root,
// keyed by name) for this machine, with the flags of every bootstrap (CGO off, the
// lambda.norpc tag), and makes it the
// Lambda bootstrap <outDir>/<name>/bootstrap. It runs `go install` with GOBIN=<outDir>/.bin
// (one go command for all packages, so they compile and link in parallel), which relinks
// only what changed: a second start with unchanged sources costs a fraction of a second.
// The bootstraps are hard links to the installed binaries. It returns the bootstrap paths
// by name.
func Host(ctx context.Context, root, outDir string, pkgs map[string]string, log io.Writer) (map[string]string, error) {
	if len(pkgs) == 0 {
		return map[string]string{}, nil
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("build functions: %w", err)
	}
	out := map[string]string{}
	for gi, group := range groupByBinaryName(pkgs) {
		bin := filepath.Join(absOut, ".bin", strconv.Itoa(gi))
		if err := goInstall(ctx, root, bin, group, pkgs, log); err != nil {
			return nil, err
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

// groupByBinaryName splits the package names into groups whose packages' last path
// elements differ: go install names each binary after it, so packages with the same last
// element go to different GOBIN directories.
func groupByBinaryName(pkgs map[string]string) [][]string {
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
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
	return groups
}

// goInstall runs one `go install` of the group's packages into bin.
func goInstall(ctx context.Context, root, bin string, group []string, pkgs map[string]string, log io.Writer) error {
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("build functions: %w", err)
	}
	args := []string{"install", "-tags", Tags}
	for _, n := range group {
		args = append(args, pkgs[n])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = buildEnv("GOBIN=" + bin)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&buf, log), io.MultiWriter(&buf, log)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build functions (GOBIN=%s go %s): %w\n%s", bin, strings.Join(args, " "), err, buf.String())
	}
	return nil
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
