package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/app"
)

// TestBadEnvsSynthesizeNothing puts each file of the bad-envs corpus beside a valid env:
// the app refuses the whole directory with an error naming the file, the line and the
// field, and adds no stage at all.
func TestBadEnvsSynthesizeNothing(t *testing.T) {
	bad, err := filepath.Glob("../envs/testdata/bad/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, bad)
	good, err := os.ReadFile("../envs/dev.yaml")
	require.NoError(t, err)
	located := regexp.MustCompile(`\.yaml:\d+: [a-z_.\[\]0-9()]+`)
	for i, f := range bad {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.yaml"), good, 0o644))
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			target := filepath.Join(dir, filepath.Base(f))
			require.NoError(t, os.WriteFile(target, b, 0o644))

			scope := awscdk.NewStage(synthesized.app, jsii.Sprintf("BadEnvs%d", i), nil)
			built, err := app.Build(scope, app.AppConfig{EnvsDir: dir, AssetsDir: synthesized.assets})
			require.Error(t, err)
			assert.Nil(t, built)
			assert.Contains(t, err.Error(), target, "the error names the file")
			assert.Regexp(t, located, err.Error(), "and the line and the field")
			assert.Empty(t, *scope.Node().Children(), "nothing is synthesized")
		})
	}
}
