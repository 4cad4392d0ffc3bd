package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cdkcli"
	"github.com/payhook/payhook/internal/nodebin"
)

// TestCDKCLISynth runs the pinned CDK CLI on cdk.json, as `npx cdk synth` does: the app
// synthesizes the pipeline and every environment.
func TestCDKCLISynth(t *testing.T) {
	out := t.TempDir()
	cmd, err := cdkcli.Command(context.Background(), "..", "synth", "--quiet", "--output", out)
	require.NoError(t, err)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.Env = append(cmd.Env, "PAYHOOK_ASSETS_DIR="+synthesized.assets,
		"PATH="+nodeBin(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	require.NoError(t, cmd.Run(), log.String())
	for _, f := range []string{"PayhookPipeline.template.json", "assembly-PayhookPipeline-payhook-prod", "assembly-payhook-local"} {
		_, err := os.Stat(filepath.Join(out, f))
		assert.NoError(t, err, f)
	}
}

func nodeBin(t *testing.T) string {
	p, err := nodebin.Dir("..")
	require.NoError(t, err)
	return p
}
