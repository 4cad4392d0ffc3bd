package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// normalize renders a template as the golden files hold it (cfn.Normalize).
func normalize(t *testing.T, tmpl map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(tmpl, "", " ")
	require.NoError(t, err)
	return append(cfn.Normalize(b), '\n')
}

// TestGoldenTemplates compares each environment's template with testdata/<env>.template.json.
// `go test ./tests -run Golden -update` rewrites them, so every change to the constructs,
// the stack or an env file shows its infrastructure diff in review.
func TestGoldenTemplates(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(synthesized.outdir, *synthesized.built.Delivery.TemplateFile()))
	require.NoError(t, err)
	var pipe map[string]any
	require.NoError(t, json.Unmarshal(b, &pipe))
	golden := map[string]map[string]any{"pipeline": pipe}
	for name, tmpl := range synthesized.templates {
		golden[name] = tmpl
	}
	for name, tmpl := range golden {
		t.Run(name, func(t *testing.T) {
			got := normalize(t, tmpl)
			path := filepath.Join("testdata", name+".template.json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden template: run `go test ./tests -run Golden -update`")
			assert.JSONEq(t, string(want), string(got), "template of %s changed: review the diff, then `go test ./tests -run Golden -update`", name)
		})
	}
}
