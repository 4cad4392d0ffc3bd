// Package opsenv opens the table an operator tool (failures, totals) reads: the local
// stack's, or a deployed env's (probe.FindTable). For a deployed env it fills in from the
// env's file, envs/<env>.yaml, what the environment variables leave out: the region
// (AWS_REGION) and the providers (PAYHOOK_PROVIDERS).
package opsenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/probe"
)

// EnvDir is where env files are, relative to the repository root (the tools' working
// directory under `go run` and mage).
const EnvDir = "envs"

// envName is an env file's name (envs' schema for name).
var envName = regexp.MustCompile(`^[a-z][a-z0-9-]{1,15}$`)

// Open returns env's table. For a deployed env whose file is in EnvDir, AWS_REGION is set
// to the env's region unless AWS_REGION or AWS_DEFAULT_REGION is set, and the providers
// are the env's and the smoke provider's unless PAYHOOK_PROVIDERS is set.
func Open(ctx context.Context, env, statePath string) (*probe.Table, error) {
	var fromFile []string
	if env != "local" {
		var err error
		if fromFile, err = deployedDefaults(filepath.Join(EnvDir, env+".yaml"), env); err != nil {
			return nil, err
		}
	}
	t, err := probe.FindTable(ctx, env, statePath)
	if err != nil {
		return nil, err
	}
	if t.Providers == nil {
		t.Providers = fromFile
	}
	return t, nil
}

// deployedDefaults reads the env file at path, when there is one: it sets the region as
// Open says and returns the providers' names, the smoke provider's last.
func deployedDefaults(path, env string) ([]string, error) {
	if !envName.MatchString(env) {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	e, err := envs.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env %s: %w", env, err)
	}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		os.Setenv("AWS_REGION", e.Region)
	}
	names := make([]string, 0, len(e.Providers)+1)
	for _, p := range e.Providers {
		names = append(names, p.Name)
	}
	return append(names, contract.SmokeProvider), nil
}

// Main parses the command line, runs run until it returns or Ctrl-C cancels its context,
// and exits 1 printing "<name>: <error>" when it fails: the tail of every operator tool's
// main.
func Main(name string, run func(ctx context.Context) error) {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
