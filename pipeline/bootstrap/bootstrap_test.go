package bootstrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cdkTemplate reads the pinned CLI's bootstrap template (npm ci installs it).
func cdkTemplate(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", CDKTemplate))
	require.NoError(t, err, "run npm ci: the CDK CLI ships the bootstrap template")
	return b
}

func TestTemplateTrustsOnlyThePipelineRoles(t *testing.T) {
	out, err := BootstrapTemplate(cdkTemplate(t), []map[string]any{{"Version": "2012-10-17", "Statement": []any{}}})
	require.NoError(t, err)
	var tmpl map[string]any
	require.NoError(t, json.Unmarshal(out, &tmpl))
	res := tmpl["Resources"].(map[string]any)
	trust := func(role string) string {
		b, _ := json.Marshal(res[role].(map[string]any)["Properties"].(map[string]any)["AssumeRolePolicyDocument"])
		return string(b)
	}
	deploy := trust("DeploymentActionRole")
	assert.Contains(t, deploy, "role/payhook-pipeline-codepipeline")
	assert.Contains(t, deploy, "role/payhook-pipeline-permissions-check")
	assert.NotContains(t, deploy, "payhook-pipeline-assets")
	assert.Equal(t, 3, strings.Count(deploy, `"aws:PrincipalArn"`), "AssumeRole (with and without the external-id rule) and TagSession")
	assert.Contains(t, trust("FilePublishingRole"), "role/payhook-pipeline-assets")
	exec := res["CloudFormationExecutionRole"].(map[string]any)["Properties"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"Ref": "PayhookExecutionPolicy1"}}, exec["ManagedPolicyArns"], "no AdministratorAccess fallback")
	assert.Equal(t, Variant, tmpl["Parameters"].(map[string]any)["BootstrapVariant"].(map[string]any)["Default"])
}
