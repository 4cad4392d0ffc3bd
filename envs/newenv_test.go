package envs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func copyEnvs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	return dir
}

func TestNewEnvFile(t *testing.T) {
	dir := copyEnvs(t)
	path, err := NewEnvFile(dir, "qa", "staging")
	require.NoError(t, err)
	qa, err := LoadFile(path)
	require.NoError(t, err)
	staging, err := LoadFile(filepath.Join(dir, "staging.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "qa", qa.Name)
	assert.Equal(t, 4, qa.Order, "next free order after prod's 3")
	assert.Equal(t, staging.Functions, qa.Functions, "values copied from FROM")
	assert.Equal(t, staging.Deployment, qa.Deployment)
	assert.Equal(t, "qa", qa.Tags["environment"], "the environment tag names the new env")
	b, _ := os.ReadFile(path)
	assert.Contains(t, string(b), "# yaml-language-server: $schema=./schema.json", "the schema comment stays first")

	_, err = NewEnvFile(dir, "qa", "staging")
	assert.ErrorContains(t, err, "already exists")
	_, err = NewEnvFile(dir, "QA!", "staging")
	assert.ErrorContains(t, err, "name must match")
	_, err = NewEnvFile(dir, "qa2", "nope")
	assert.ErrorContains(t, err, `no env "nope"`)

	local, err := NewEnvFile(dir, "local2", "local")
	require.NoError(t, err)
	l2, err := LoadFile(local)
	require.NoError(t, err)
	assert.True(t, l2.LocalOnly)
	assert.Zero(t, l2.Order, "a local-only copy gets no order")
	all, err := LoadDir(dir)
	require.NoError(t, err)
	assert.Len(t, all, 6)
}
