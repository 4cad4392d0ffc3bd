package envs

import (
	"os"
	"path/filepath"
	"strings"
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
	path, err := NewEnvFile(dir, "qa", "staging", 0)
	require.NoError(t, err)
	qa, err := LoadFile(path)
	require.NoError(t, err)
	staging, err := LoadFile(filepath.Join(dir, "staging.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "qa", qa.Name)
	assert.Equal(t, staging.Order, qa.Order, "without ORDER, the copy joins FROM's wave (never after prod)")
	assert.Equal(t, staging.Functions, qa.Functions, "values copied from FROM")
	assert.Equal(t, staging.Deployment, qa.Deployment)
	assert.Equal(t, "qa", qa.Tags["environment"], "the environment tag names the new env")
	b, _ := os.ReadFile(path)
	assert.True(t, strings.HasPrefix(string(b), "# yaml-language-server: $schema=./schema.json\n"), "the schema comment stays first")
	assert.Contains(t, string(b), "# qa: created by `go run mage.go new:env qa FROM=staging ORDER=2` as a copy of staging.yaml")
	assert.NotContains(t, string(b), "the second pipeline stage", "staging's description is not the copy's")

	_, err = NewEnvFile(dir, "qa", "staging", 0)
	assert.ErrorContains(t, err, "already exists")
	_, err = NewEnvFile(dir, "QA!", "staging", 0)
	assert.ErrorContains(t, err, "name must match")
	_, err = NewEnvFile(dir, "qa2", "nope", 0)
	assert.ErrorContains(t, err, `no env "nope"`)
	_, err = NewEnvFile(dir, "qa2", "dev", -1)
	assert.ErrorContains(t, err, "ORDER must be at least 1")

	early, err := NewEnvFile(dir, "sandbox", "dev", 1)
	require.NoError(t, err)
	sb, err := LoadFile(early)
	require.NoError(t, err)
	assert.Equal(t, 1, sb.Order, "ORDER places the copy")

	local, err := NewEnvFile(dir, "local2", "local", 0)
	require.NoError(t, err)
	l2, err := LoadFile(local)
	require.NoError(t, err)
	assert.True(t, l2.LocalOnly)
	assert.Zero(t, l2.Order, "a local-only copy gets no order")
	all, err := LoadDir(dir)
	require.NoError(t, err)
	assert.Len(t, all, 7)
}
