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
