package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
)

func TestWhere(t *testing.T) {
	ps, err := app.Where("../envs")
	require.NoError(t, err)
	byEnv := map[string]app.Placement{}
	for _, p := range ps {
		byEnv[p.Env] = p
	}
	prod := byEnv["prod"]
	assert.Equal(t, app.Placement{Env: "prod", Stack: "payhook-prod", Account: "222222222222", Region: "us-east-1", Wave: "order-3",
		Approval: "manual", Retention: "retained, deletion protection", Route: "pipeline (deploy only with FORCE=1)"}, prod)
	assert.Equal(t, "local", byEnv["local"].Account)
	assert.Equal(t, "go run mage.go local", byEnv["local"].Route)
	md := app.FormatPlacements(ps, true)
	assert.Contains(t, md, "| prod | payhook-prod | 222222222222 | us-east-1 | order-3 | manual | retained, deletion protection |")
	assert.Equal(t, len(ps)+2, strings.Count(md, "\n"), "a header, a rule and a row per env")
}

func TestDeployRefusals(t *testing.T) {
	prod := envs.Env{Name: "prod", Account: "222222222222", Order: 3}
	local := envs.Env{Name: "local", LocalOnly: true}
	assert.True(t, errors.Is(app.CheckDeploy(prod, false), app.ErrPipelineOwned), "the pipeline owns prod")
	assert.NoError(t, app.CheckDeploy(prod, true), "FORCE=1 for an incident")
	assert.ErrorContains(t, app.CheckDeploy(local, true), "never deployed")
	assert.NoError(t, app.CheckAccount(prod, "222222222222"))
	assert.ErrorContains(t, app.CheckAccount(prod, "333333333333"), "the credentials are of account 333333333333, the env's is 222222222222")
}

func TestDestroyRefusals(t *testing.T) {
	prod, err := app.Target("../envs", "prod", "")
	require.NoError(t, err)
	dev, err := app.Target("../envs", "dev", "")
	require.NoError(t, err)
	preview, err := app.Target("../envs", "dev", "pr-42")
	require.NoError(t, err)
	local, err := app.Target("../envs", "local", "")
	require.NoError(t, err)

	assert.ErrorContains(t, app.CheckDestroy(prod, ""), "retain_data: true")
	assert.ErrorContains(t, app.CheckDestroy(prod, "dev"), "CONFIRM=prod", "only the env's own name confirms")
	assert.NoError(t, app.CheckDestroy(prod, "prod"))
	assert.ErrorContains(t, app.CheckDestroy(dev, ""), "brings it back on the next merge")
	assert.NoError(t, app.CheckDestroy(preview, ""), "a preview goes without confirmation")
	assert.ErrorContains(t, app.CheckDestroy(local, "local"), "no stack in AWS")

	assert.NoError(t, app.CheckDeploy(preview, false), "a preview is not the pipeline's")
	assert.ErrorContains(t, app.CheckAccount(preview, "222222222222"), "dev-pr-42: the credentials are of account 222222222222")
	assert.ErrorContains(t, app.CheckAccount(preview, "222222222222"), "(envs/dev.yaml)")

	_, err = app.Target("../envs", "prod", "pr-42")
	assert.ErrorContains(t, err, "allows no preview copies")
	_, err = app.Target("../envs", "", "")
	assert.ErrorContains(t, err, "set ENV=<name>")
}
