// Package targets describes payhook's mage targets: each target's name, its positional
// arguments and the settings it reads. A setting is given as KEY=VALUE, either as an
// argument (`go run mage.go deploy ENV=dev`, the documented form) or in the environment
// (`ENV=dev go run mage.go deploy`): one convention for every target. `go run mage.go`
// parses its arguments here first, so an unknown target, an unknown setting or a missing
// argument is refused before anything runs, and a test checks every command the
// documentation teaches the same way.
package targets

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Target is one mage target.
type Target struct {
	// Name is the target as mage names it: "synth", "new:env", "iam:report".
	Name string
	// Args are its positional arguments, in order.
	Args []string
	// Settings are the KEY names it reads (as KEY=VALUE arguments or environment variables).
	Settings []string
}

// All lists every target of magefile.go.
func All() []Target {
	return []Target{
		{Name: "build"},
		{Name: "synth", Settings: []string{"ENV", "SUFFIX"}},
		{Name: "bootstrap", Settings: []string{"ENV"}},
		{Name: "pipeline:synth"},
		{Name: "pipeline:deploy"},
		{Name: "new:env", Args: []string{"NAME"}, Settings: []string{"FROM", "ORDER"}},
		{Name: "new:ci", Args: []string{"SYSTEM"}, Settings: []string{"ENV"}},
		{Name: "new:app", Args: []string{"DIR"}, Settings: []string{"MODULE", "NAME", "ROUTE"}},
		{Name: "test"},
		{Name: "lint"},
		{Name: "gen"},
		{Name: "fuzz", Settings: []string{"FUZZTIME"}},
		{Name: "bench", Settings: []string{"BENCH_QUICK", "BENCH_OUT"}},
		{Name: "microbench"},
		{Name: "cost", Settings: []string{"ENV", "RATE", "RETRY"}},
		{Name: "diff", Settings: []string{"ENV", "SUFFIX", "BASE"}},
		{Name: "deploy", Settings: []string{"ENV", "SUFFIX", "FORCE"}},
		{Name: "destroy", Settings: []string{"ENV", "SUFFIX", "CONFIRM"}},
		{Name: "where", Settings: []string{"ENV", "MARKDOWN"}},
		{Name: "local", Settings: []string{"SUFFIX", "PAYHOOK_IAM"}},
		{Name: "nag"},
		{Name: "iam:report", Settings: []string{"WORKDIR"}},
		{Name: "smoke", Settings: []string{"ENV", "SUFFIX"}},
		{Name: "replay", Settings: []string{"ENV", "SUFFIX", "LIMIT"}},
		{Name: "failures", Settings: []string{"ENV", "SUFFIX", "LIMIT", "ALL"}},
		{Name: "totals", Settings: []string{"ENV", "SUFFIX", "DAY", "PROVIDER"}},
		{Name: "loadtest", Settings: []string{"ENV", "SUFFIX", "N", "C", "DUP"}},
		{Name: "chaos", Settings: []string{"FAULTS", "N", "C", "DUP"}},
		{Name: "clean"},
	}
}

// Default is the target `go run mage.go` runs without one.
const Default = "synth"

// Lookup returns the target named name (mage's names are case-insensitive).
func Lookup(name string) (Target, bool) {
	for _, t := range All() {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return Target{}, false
}

// Command is one parsed `go run mage.go` command line.
type Command struct {
	// Flags are mage's own flags (-v, -l, -h, ...), passed through.
	Flags []string
	// Targets are the targets to run, each followed by its positional arguments, as mage
	// takes them.
	Targets []string
	// Settings are the KEY=VALUE arguments.
	Settings map[string]string
}

// setting is a KEY=VALUE argument.
var setting = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)

// Parse reads the arguments after `go run mage.go`. It refuses an unknown target, a
// setting that none of the command's targets reads, and a target without its arguments.
func Parse(args []string) (Command, error) {
	c := Command{Settings: map[string]string{}}
	var current []Target
	missing := 0 // positional arguments the last target still needs
	var last Target
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-") && len(c.Targets) == 0:
			c.Flags = append(c.Flags, a)
		case setting.MatchString(a):
			m := setting.FindStringSubmatch(a)
			c.Settings[m[1]] = m[2]
		case missing > 0:
			c.Targets = append(c.Targets, a)
			missing--
		default:
			t, ok := Lookup(a)
			if !ok {
				return Command{}, fmt.Errorf("unknown target %q (`go run mage.go -l` lists them)", a)
			}
			c.Targets = append(c.Targets, t.Name)
			current = append(current, t)
			missing, last = len(t.Args), t
		}
	}
	if missing > 0 {
		return Command{}, fmt.Errorf("%s needs %s: go run mage.go %s %s", last.Name,
			strings.Join(last.Args[len(last.Args)-missing:], " "), last.Name, strings.Join(last.Args, " "))
	}
	if len(current) == 0 && !listing(c.Flags) {
		t, _ := Lookup(Default)
		current = append(current, t)
	}
	for key := range c.Settings {
		if !readsSetting(current, key) {
			return Command{}, fmt.Errorf("%s=: no setting of %s (it reads %s)", key, names(current), settingsOf(current))
		}
	}
	return c, nil
}

// listing reports whether mage's flags ask for a listing or help, not a run.
func listing(flags []string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return f == "-l" || f == "-h" || f == "-help" || f == "-version" })
}

// readsSetting reports whether one of ts reads key.
func readsSetting(ts []Target, key string) bool {
	for _, t := range ts {
		if slices.Contains(t.Settings, key) {
			return true
		}
	}
	return false
}

// names joins the targets' names.
func names(ts []Target) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	if len(out) == 0 {
		return "a listing"
	}
	return strings.Join(out, ", ")
}

// settingsOf lists the settings the targets read.
func settingsOf(ts []Target) string {
	var all []string
	for _, t := range ts {
		for _, s := range t.Settings {
			if !slices.Contains(all, s) {
				all = append(all, s)
			}
		}
	}
	if len(all) == 0 {
		return "none"
	}
	return strings.Join(all, ", ")
}
