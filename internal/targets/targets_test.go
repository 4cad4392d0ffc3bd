package targets_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/targets"
)

const root = "../.."

// magefileTargets reads the targets mage finds in the magefiles: exported functions, and
// exported methods of mg.Namespace types as "namespace:method", lower-cased, with the
// number of their positional (string) arguments.
func magefileTargets(t *testing.T) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "magefile*.go"))
	require.NoError(t, err)
	out := map[string]int{}
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		require.NoError(t, err)
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			name := strings.ToLower(fn.Name.Name)
			if fn.Recv != nil {
				name = strings.ToLower(fn.Recv.List[0].Type.(*ast.Ident).Name) + ":" + name
			}
			args := 0
			for _, p := range fn.Type.Params.List {
				if id, ok := p.Type.(*ast.Ident); ok && id.Name == "string" {
					args += max(len(p.Names), 1)
				}
			}
			out[name] = args
		}
	}
	return out
}

// TestEveryMageTargetIsDescribed: the table and the magefiles name the same targets, with
// the same positional arguments.
func TestEveryMageTargetIsDescribed(t *testing.T) {
	want := magefileTargets(t)
	got := map[string]int{}
	for _, tg := range targets.All() {
		got[tg.Name] = len(tg.Args)
	}
	assert.Equal(t, want, got)
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		args    []string
		targets []string
		err     string
	}{
		{[]string{"deploy", "ENV=dev"}, []string{"deploy"}, ""},
		{[]string{"cost", "ENV=prod", "RATE=10000000"}, []string{"cost"}, ""},
		{[]string{"new:env", "qa", "FROM=dev", "ORDER=1"}, []string{"new:env", "qa"}, ""},
		{[]string{"-v", "NEW:ENV", "qa"}, []string{"new:env", "qa"}, ""},
		{[]string{"ENV=dev"}, nil, ""}, // the default target, synth, reads ENV
		{[]string{"-l"}, nil, ""},
		{[]string{"new:env", "FROM=dev"}, nil, "new:env needs NAME: go run mage.go new:env NAME"},
		{[]string{"deploy", "ENV=dev", "FROM=x"}, nil, "FROM=: no setting of deploy (it reads ENV, SUFFIX, FORCE)"},
		{[]string{"clean", "FOO=1"}, nil, "FOO=: no setting of clean (it reads none)"},
		{[]string{"FROM=dev"}, nil, "FROM=: no setting of synth"},
		{[]string{"deploy", "dev"}, nil, `unknown target "dev"`},
	} {
		cmd, err := targets.Parse(c.args)
		if c.err != "" {
			require.Error(t, err, "%v", c.args)
			assert.Contains(t, err.Error(), c.err, "%v", c.args)
			continue
		}
		require.NoError(t, err, "%v", c.args)
		assert.Equal(t, c.targets, cmd.Targets, "%v", c.args)
	}
}

// documented matches a command the documentation teaches, up to a comment, a quote, a
// backtick or the end of the line.
var documented = regexp.MustCompile("go run mage\\.go((?: +[^ #`'\"|)\\n]+)*)")

// TestEveryDocumentedCommandParses extracts every `go run mage.go …` command from the
// README, docs/, the env files and the Go sources (messages and generated headers) and
// parses it as mage.go would: the target exists, its arguments and settings are accepted.
// Placeholders are allowed where a value goes (ENV=<name>); an optional part in brackets
// is read without its brackets.
func TestEveryDocumentedCommandParses(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "cdk.out", "build", ".payhook", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".yaml") ||
			strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	}))
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "CHANGELOG.md") {
			continue // a record of what was, not what runs
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range documented.FindAllStringSubmatch(line, -1) {
				args := strings.Fields(strings.NewReplacer("[", "", "]", "", "…", "", "...", "").Replace(m[1]))
				if len(args) > 0 && strings.HasPrefix(args[0], "<") || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "%") }) {
					continue // "go run mage.go <target>": the form itself, not a command
				}
				seen++
				_, err := targets.Parse(args)
				assert.NoError(t, err, "%s:%d: go run mage.go%s", f, i+1, m[1])
			}
		}
	}
	assert.Greater(t, seen, 40, "the documentation's commands were found")
}
