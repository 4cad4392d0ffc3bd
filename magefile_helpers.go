//go:build mage

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/payhook/payhook/internal/nodebin"
)

// oneTemplate returns the one synthesized template (*.template.json) in an assembly
// directory; what names the target for the errors.
func oneTemplate(what, dir string) (string, error) {
	templates, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil {
		return "", fmt.Errorf("%s: find the template in %s: %w", what, dir, err)
	}
	if len(templates) != 1 {
		return "", fmt.Errorf("%s: want one template in %s, found %d", what, dir, len(templates))
	}
	return templates[0], nil
}

var nodeWarning sync.Once

// nodeEnv returns this process's environment with the project's Node 22 first on PATH
// (nodebin.Dir: the pinned node-<os>-<arch> package, or a Node 22+ already on PATH): jsii
// and the emulators run on it (Node 20 is past end of life, and synth measured faster on
// 22). Without one it returns the environment unchanged, so that `npm ci`, which installs
// it, still runs; once node_modules exists, the first such call prints what is needed.
func nodeEnv() []string {
	env := os.Environ()
	dir, err := nodebin.Dir(".")
	if err != nil {
		if _, serr := os.Stat("node_modules"); serr == nil {
			nodeWarning.Do(func() { fmt.Fprintln(os.Stderr, "mage: warning:", err) })
		}
		return env
	}
	return append(env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}
