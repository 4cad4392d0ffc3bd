package contract

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseGoFiles parses the non-test Go files of dir.
func parseGoFiles(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	require.NotEmpty(t, files, "no Go files in %s", dir)
	return files
}

// declaredConstants are this package's string constants whose name starts with prefix, by
// name, read from its source: a constant added later is seen without this test naming it.
func declaredConstants(t *testing.T, prefix string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("contract", fset, parseGoFiles(t, fset, "."), nil)
	require.NoError(t, err)
	out := map[string]string{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if ok && strings.HasPrefix(name, prefix) && c.Val().Kind() == constant.String {
			out[name] = constant.StringVal(c.Val())
		}
	}
	require.NotEmpty(t, out, "no %s constants", prefix)
	return out
}

// probeDescribing are the probe variables that carry no stack output: they describe the
// providers to sign as (the pipeline's smoke step sets them from the env file).
var probeDescribing = []string{ProbeProviders, ProbePayloadFormats, ProbeLive}

// Every probe variable either carries exactly one of the payments stack's outputs (an
// Output* constant) or is one of the describing variables, never both; no two carry the same
// output and no two are spelled alike.
func TestProbeVariablesCarryDeclaredOutputs(t *testing.T) {
	probes := declaredConstants(t, "Probe")
	outputs := map[string]string{} // output value → constant name
	for name, v := range declaredConstants(t, "Output") {
		outputs[v] = name
	}
	mapping := ProbeOutputs()

	seen := map[string]string{} // variable → Probe constant
	for name, v := range probes {
		if other, ok := seen[v]; ok {
			t.Errorf("%s and %s are both %q", name, other, v)
		}
		seen[v] = name
		_, carries := mapping[v]
		describes := false
		for _, d := range probeDescribing {
			describes = describes || d == v
		}
		assert.True(t, carries != describes, "%s (%s): carries an output (ProbeOutputs) or describes providers, exactly one", name, v)
	}

	carried := map[string]string{} // output → variable
	for v, o := range mapping {
		assert.Contains(t, seen, v, "ProbeOutputs key %q is no Probe constant", v)
		assert.Contains(t, outputs, o, "%s carries %q, which is no Output constant", v, o)
		if other, ok := carried[o]; ok {
			t.Errorf("%s and %s both carry %s", v, other, o)
		}
		carried[o] = v
	}
}

// The Output constants the probe variables carry are outputs the payments stack declares:
// each is the first argument of a call there (its out(id, value, description) helper).
func TestProbeOutputsAreDeclaredByThePaymentsStack(t *testing.T) {
	declared := map[string]bool{} // Output constant names
	for _, f := range parseGoFiles(t, token.NewFileSet(), filepath.Join("..", "..", "stacks", "payments")) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if sel, ok := call.Args[0].(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "contract" && strings.HasPrefix(sel.Sel.Name, "Output") {
					declared[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	byValue := map[string]string{}
	for name, v := range declaredConstants(t, "Output") {
		byValue[v] = name
	}
	var names []string
	for name := range declared {
		names = append(names, name)
	}
	sort.Strings(names)
	for v, o := range ProbeOutputs() {
		assert.True(t, declared[byValue[o]], "%s carries %s (%s), which stacks/payments does not declare; it declares %v", v, o, byValue[o], names)
	}
}
