package lambdabuild

import (
	"context"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostBuildsPackagesThatShareABinaryName: go install names a binary after its package's
// last path element, so two packages called echo go to two GOBIN directories; each function
// gets its own bootstrap, which runs.
func TestHostBuildsPackagesThatShareABinaryName(t *testing.T) {
	out := t.TempDir()
	pkgs := map[string]string{"A": "./internal/lambdabuild/testdata/a/echo", "B": "./internal/lambdabuild/testdata/b/echo"}
	built, err := Host(context.Background(), "../..", out, pkgs, nil)
	require.NoError(t, err)
	require.Len(t, built, 2)
	for name, want := range map[string]string{"A": "a", "B": "b"} {
		got, err := exec.Command(built[name]).Output()
		require.NoError(t, err, name)
		assert.Equal(t, want, string(got), "%s runs its own package", name)
	}
	again, err := Host(context.Background(), "../..", out, pkgs, nil)
	require.NoError(t, err)
	assert.Equal(t, built, again, "a second build of unchanged sources reuses the bootstraps")
}

func TestHostBuildErrorNamesTheCommand(t *testing.T) {
	_, err := Host(context.Background(), "../..", t.TempDir(), map[string]string{"X": "./no/such/package"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "go install -tags "+Tags+" ./no/such/package")
}
