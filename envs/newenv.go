package envs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var (
	nameLine  = regexp.MustCompile(`(?m)^name:[ \t]*\S+[ \t]*(#.*)?$`)
	orderLine = regexp.MustCompile(`(?m)^order:[ \t]*\S+[ \t]*(#.*)?$`)
	validName = regexp.MustCompile(`^[a-z][a-z0-9-]{1,15}$`)
)

// NewEnvFile writes dir/<name>.yaml as a copy of dir/<from>.yaml (comments and layout
// kept) with the name replaced and, for a deployable env, the next free promotion order.
// It refuses a name that already exists or is malformed, and removes the file again if the
// result does not load. It returns the new file's path.
func NewEnvFile(dir, name, from string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("new env %q: name must match %s", name, validName)
	}
	all, err := LoadDir(dir)
	if err != nil {
		return "", fmt.Errorf("new env %q: the existing envs must load first: %w", name, err)
	}
	maxOrder := 0
	var src *Env
	for i, e := range all {
		if e.Name == name {
			return "", fmt.Errorf("new env %q: %s already exists", name, filepath.Join(dir, name+".yaml"))
		}
		if e.Name == from {
			src = &all[i]
		}
		maxOrder = max(maxOrder, e.Order)
	}
	if src == nil {
		return "", fmt.Errorf("new env %q: no env %q to copy in %s", name, from, dir)
	}
	target := filepath.Join(dir, name+".yaml")
	if _, err := os.Stat(target); err == nil {
		return "", fmt.Errorf("new env %q: %s already exists", name, target)
	}
	b, err := os.ReadFile(filepath.Join(dir, from+".yaml"))
	if err != nil {
		return "", fmt.Errorf("new env %q: %w", name, err)
	}
	text := nameLine.ReplaceAllString(string(b), "name: "+name)
	// A tag naming the source environment names the new one.
	text = regexp.MustCompile(`(?m)^(\s+environment:[ \t]*)`+regexp.QuoteMeta(from)+`[ \t]*$`).ReplaceAllString(text, "${1}"+name)
	if src.Deployable() {
		text = orderLine.ReplaceAllString(text, "order: "+strconv.Itoa(maxOrder+1))
	}
	// The source's own name in tags and comments would now be wrong: say where it came from.
	text = strings.Replace(text, "\n", fmt.Sprintf("\n# Created by `mage new:env %s FROM=%s`; review every value.\n", name, from), 1)
	if err := os.WriteFile(target, []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("new env %q: %w", name, err)
	}
	if _, err := LoadFile(target); err != nil {
		os.Remove(target)
		return "", fmt.Errorf("new env %q: the copy does not load (removed): %w", name, err)
	}
	return target, nil
}
