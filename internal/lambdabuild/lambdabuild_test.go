package lambdabuild

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildIsReproducible builds every service twice into different directories: the
// bytes (and so the CDK asset hashes) are identical, and each is a stripped linux/arm64 ELF.
func TestBuildIsReproducible(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, Build(ctx, "../..", a, Lambda))
	require.NoError(t, Build(ctx, "../..", b, Lambda))
	assert.Empty(t, Missing(a))
	for _, svc := range Services {
		x, err := os.ReadFile(filepath.Join(a, svc, "bootstrap"))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, svc, "bootstrap"))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(x, y), "%s: two builds differ", svc)

		f, err := elf.NewFile(bytes.NewReader(x))
		require.NoError(t, err)
		assert.Equal(t, elf.EM_AARCH64, f.Machine, svc)
		assert.Nil(t, f.Section(".symtab"), "%s: stripped", svc)
		t.Logf("%s bootstrap: %d bytes", svc, len(x))
	}
}

func TestBuildReportsCompileErrors(t *testing.T) {
	err := BuildOne(context.Background(), "../..", t.TempDir(), "no-such-service", Lambda)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-service")
}
