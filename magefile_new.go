//go:build mage

// Generators: new:env.

package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/magefile/mage/mg"
	"github.com/payhook/payhook/envs"
)

// New holds generators.
type New mg.Namespace

// Env writes envs/<name>.yaml as a copy of FROM (default staging) in FROM's promotion wave,
// or at ORDER: `go run mage.go new:env qa FROM=dev ORDER=1`. It refuses an existing name,
// and removes the file again unless the result loads.
func (New) Env(name string) error {
	from := envOr("FROM", "staging")
	order := 0
	if v := os.Getenv("ORDER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("new:env: ORDER=%q: want a promotion order, 1 or more", v)
		}
		order = n
	}
	path, err := envs.NewEnvFile("envs", name, from, order)
	if err != nil {
		return err
	}
	fmt.Printf("new:env: wrote %s (from %s); review it, then `go run mage.go synth`\n", path, from)
	return nil
}
