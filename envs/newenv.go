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

// NewEnvFile writes dir/<name>.yaml as a copy of dir/<from>.yaml (layout and field
// comments kept) with the name replaced, the header comment rewritten to say where the file
// came from, and, for a deployable env, the promotion order: order, or from's when order is 0
// (the copy joins from's wave). It refuses a name that already exists or is malformed, and
// removes the file again if the result does not load. It returns the new file's path.
func NewEnvFile(dir, name, from string, order int) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("new env %q: name must match %s", name, validName)
	}
	if order < 0 {
		return "", fmt.Errorf("new env %q: ORDER must be at least 1, got %d", name, order)
	}
	src, err := source(dir, name, from)
	if err != nil {
		return "", err
	}
	target := filepath.Join(dir, name+".yaml")
	b, err := os.ReadFile(filepath.Join(dir, from+".yaml"))
	if err != nil {
		return "", fmt.Errorf("new env %q: %w", name, err)
	}
	text := nameLine.ReplaceAllString(string(b), "name: "+name)
	// A tag naming the source environment names the new one.
	text = regexp.MustCompile(`(?m)^(\s+environment:[ \t]*)`+regexp.QuoteMeta(from)+`[ \t]*$`).ReplaceAllString(text, "${1}"+name)
	if src.Deployable() {
		if order == 0 {
			order = src.Order
		}
		text = orderLine.ReplaceAllString(text, "order: "+strconv.Itoa(order))
	}
	text = newHeader(text, fmt.Sprintf("%s: created by `go run mage.go new:env %s FROM=%s ORDER=%d` as a copy of %s.yaml;\n"+
		"# review every value (account, region, providers, alarms) before it is merged.", name, name, from, order, from))
	if err := os.WriteFile(target, []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("new env %q: %w", name, err)
	}
	if _, err := LoadFile(target); err != nil {
		os.Remove(target)
		return "", fmt.Errorf("new env %q: the copy does not load (removed): %w", name, err)
	}
	return target, nil
}

// source loads dir's envs and returns from's, refusing a name that exists.
func source(dir, name, from string) (Env, error) {
	all, err := LoadDir(dir)
	if err != nil {
		return Env{}, fmt.Errorf("new env %q: the existing envs must load first: %w", name, err)
	}
	var src *Env
	for i, e := range all {
		if e.Name == name {
			return Env{}, fmt.Errorf("new env %q: %s already exists", name, filepath.Join(dir, name+".yaml"))
		}
		if e.Name == from {
			src = &all[i]
		}
	}
	if src == nil {
		return Env{}, fmt.Errorf("new env %q: no env %q to copy in %s", name, from, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, name+".yaml")); err == nil {
		return Env{}, fmt.Errorf("new env %q: %s already exists", name, filepath.Join(dir, name+".yaml"))
	}
	return *src, nil
}

// newHeader replaces the comment block that follows the schema line (the source env's
// description) with header.
func newHeader(text, header string) string {
	lines := strings.SplitAfter(text, "\n")
	i := 1 // after "# yaml-language-server: $schema=..."
	for i < len(lines) && strings.HasPrefix(lines[i], "#") {
		i++
	}
	return lines[0] + "#\n# " + header + "\n" + strings.Join(lines[i:], "")
}
