package tests

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Limits that keep every room small enough to read: a file, and a function, a newcomer
// can hold in mind.
const (
	maxFileLines = 500
	maxFuncLines = 80
)

// goSources parses every Go file of the module outside tests and generated code, by
// directory, and lists the files and functions over the size limits.
func goSources(t *testing.T) (map[string][]*ast.File, []string) {
	t.Helper()
	fset := token.NewFileSet()
	byDir := map[string][]*ast.File{}
	var tooBig []string
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Base(path) == "mage.go" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if lines := fset.File(f.Pos()).LineCount(); lines > maxFileLines {
			tooBig = append(tooBig, fmt.Sprintf("%s: %d lines, more than %d: split it by concern", rel, lines, maxFileLines))
		}
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Body != nil {
				if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n > maxFuncLines {
					tooBig = append(tooBig, fmt.Sprintf("%s: func %s is %d lines, more than %d: name its steps", rel, fd.Name.Name, n, maxFuncLines))
				}
			}
		}
		byDir[filepath.Dir(rel)] = append(byDir[filepath.Dir(rel)], f)
		return nil
	})
	require.NoError(t, err)
	return byDir, tooBig
}

// TestRoomsStaySmallAndSayWhatTheyHold checks the size limits and that every package says
// what it holds in its doc comment.
func TestRoomsStaySmallAndSayWhatTheyHold(t *testing.T) {
	byDir, tooBig := goSources(t)
	assert.Empty(t, tooBig)
	for dir, files := range byDir {
		documented := false
		for _, f := range files {
			documented = documented || (f.Doc != nil && len(strings.TrimSpace(f.Doc.Text())) > 20)
		}
		assert.True(t, documented, "package %s has no doc comment saying what it holds", dir)
	}
}

// TestDependenciesPointOneWay: constructs know nothing of payments, envs or services; the
// Lambda services never import aws-cdk-go or the env files; envs never imports aws-cdk-go;
// only the app assembles stacks.
func TestDependenciesPointOneWay(t *testing.T) {
	const mod = "github.com/payhook/payhook/"
	rules := []struct {
		from      string
		forbidden []string
	}{
		{"constructs", []string{mod + "envs", mod + "services", mod + "stacks", mod + "app"}},
		{"services", []string{"github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go", mod + "stacks", mod + "app", mod + "envs"}},
		{"envs", []string{"github.com/aws/aws-cdk-go", mod + "services", mod + "stacks", mod + "app"}},
		{"stacks", []string{mod + "app", mod + "services"}},
		{"internal/contract", []string{mod, "github.com/"}},
	}
	byDir, _ := goSources(t)
	tools := filepath.Join("services", "tools")
	for dir, files := range byDir {
		for _, rule := range rules {
			if dir != rule.from && !strings.HasPrefix(dir, rule.from+string(filepath.Separator)) {
				continue
			}
			if rule.from == "services" && (dir == tools || strings.HasPrefix(dir, tools+string(filepath.Separator))) {
				continue // the command-line tools (bench reads the env files), not Lambda code
			}
			for _, f := range files {
				for _, imp := range f.Imports {
					path, _ := strconv.Unquote(imp.Path.Value)
					for _, bad := range rule.forbidden {
						assert.False(t, strings.HasPrefix(path, bad), "%s imports %s", dir, path)
					}
				}
			}
		}
	}
}

// TestCodeOwnersGuardWhatDeploys: the paths that decide what reaches an environment and with
// which rights need their owners' review (.github/CODEOWNERS, enforced by branch protection).
func TestCodeOwnersGuardWhatDeploys(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".github", "CODEOWNERS"))
	require.NoError(t, err)
	owners := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			owners[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for _, path := range []string{"/envs/", "/pipeline/", "/pipeline/bootstrap/", "/cmd/cdk/", "/ci/", "/package-lock.json", "/go.sum", "/.github/"} {
		assert.NotEmpty(t, owners[path], "%s has owners", path)
		_, err := os.Stat(filepath.Join("..", strings.Trim(path, "/")))
		assert.NoError(t, err, "%s exists", path)
	}
	assert.Contains(t, owners["/pipeline/bootstrap/"], "security")
}
