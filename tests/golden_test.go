package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// normalize makes a template stable across builds: asset hashes change with every code
// change and say nothing about the infrastructure.
func normalize(t *testing.T, tmpl map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(tmpl, "", " ")
	require.NoError(t, err)
	return append(assetHash.ReplaceAll(b, []byte("<asset-hash>")), '\n')
}

// TestGoldenTemplates compares each environment's template with testdata/<env>.template.json.
// `go test ./tests -run Golden -update` rewrites them, so every change to the constructs,
// the stack or an env file shows its infrastructure diff in review.
func TestGoldenTemplates(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			got := normalize(t, synthesized.templates[e.Name])
			path := filepath.Join("testdata", e.Name+".template.json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden template: run `go test ./tests -run Golden -update`")
			assert.JSONEq(t, string(want), string(got), "template of %s changed: review the diff, then `go test ./tests -run Golden -update`", e.Name)
		})
	}
}
