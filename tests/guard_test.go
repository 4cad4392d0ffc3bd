package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/guard"
)

// TestControlTowerProactiveControls runs AWS Control Tower's proactive controls (the
// cfn-guard rules of @cdklabs/cdk-validator-cfnguard, pinned in package.json) over every
// template payhook deploys: each env's and the pipeline's. A regulated organisation turns
// them on as CloudFormation hooks, which refuse a non-compliant stack at deploy time; here
// every finding is fixed or suppressed on its resource with a reason. (The example app is
// another team's code, which chooses its own controls.)
func TestControlTowerProactiveControls(t *testing.T) {
	var files []string
	for _, st := range deployedTemplates(t) {
		files = append(files, st.File)
	}
	rep, err := guard.Check(context.Background(), "..", files)
	require.NoError(t, err)
	assert.NoError(t, rep.Err())
	perTemplate := map[string][]string{}
	for _, f := range rep.Suppressed {
		perTemplate[f.Template] = append(perTemplate[f.Template], f.Resource+" "+f.Control)
	}
	for file, list := range perTemplate {
		t.Logf("%s: %d suppressed: %s", file, len(list), strings.Join(list, ", "))
	}
	assert.NotEmpty(t, rep.Suppressed, "the suppressions were read")
}

// TestControlTowerGateCanFail: an unversioned bucket without access logs and a function
// outside a VPC are open findings, named by control and resource.
func TestControlTowerGateCanFail(t *testing.T) {
	rep, err := guard.Check(context.Background(), "..", []string{scratchTemplate(t, "GuardScratch")})
	require.NoError(t, err)
	require.Error(t, rep.Err())
	var open []string
	for _, f := range rep.Open {
		open = append(open, f.Control+" "+f.Resource)
	}
	joined := strings.Join(open, "\n")
	assert.Regexp(t, `CT\.S3\.PR\.11 Bucket[0-9A-F]{8}`, joined, "versioning")
	assert.Regexp(t, `CT\.S3\.PR\.2 Bucket[0-9A-F]{8}`, joined, "access logs")
	assert.Contains(t, joined, "CT.LAMBDA.PR.3 CustomS3AutoDeleteObjectsCustomResourceProviderHandler")
}
