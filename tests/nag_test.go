package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/internal/iam"
	"github.com/payhook/payhook/internal/naggate"
)

// TestNagGates runs the AwsSolutions and PCI DSS 3.2.1 packs over every template payhook
// deploys (each env, the pipeline), imported with cloudformation-include
// (internal/naggate), so that they see every resource, custom resource providers too, and
// fails on any unsuppressed error. The import itself refuses a dependency cycle or a dangling
// reference. Suppressions live, per resource, with their reasons in stacks/payments/nag.go
// and pipeline/nag.go.
func TestNagGates(t *testing.T) {
	for _, st := range deployedTemplates(t) {
		t.Run(st.ID, func(t *testing.T) {
			res, err := naggate.Check(synthesized.app, "Nag"+st.ID, st.File, naggate.Gated(&cdknag.NagPackProps{Verbose: jsii.Bool(true)})...)
			require.NoError(t, err)
			assert.Empty(t, res.Errors, "cdk-nag errors:\n%s", strings.Join(res.Errors, "\n"))
			if len(res.Warnings) > 0 {
				t.Logf("cdk-nag warnings (%d):\n%s", len(res.Warnings), strings.Join(res.Warnings, "\n"))
			}
		})
	}
}

// TestNagGateSeesCustomResources: a bucket with AutoDeleteObjects brings a custom resource
// provider whose role and function CDK emits as plain CfnResources, which packs run as aspects
// on the construct tree never see. Run over the synthesized template, the gate fails on them.
func TestNagGateSeesCustomResources(t *testing.T) {
	file := scratchTemplate(t, "NagCustomResource")
	res, err := naggate.Check(synthesized.app, "NagScratch", file, naggate.Gated(&cdknag.NagPackProps{Verbose: jsii.Bool(true)})...)
	require.NoError(t, err)
	joined := strings.Join(res.Errors, "\n")
	assert.Regexp(t, `CustomS3AutoDeleteObjectsCustomResourceProviderRole[^\n]*AwsSolutions-IAM4`, joined)
	assert.Regexp(t, `CustomS3AutoDeleteObjectsCustomResourceProviderHandler[^\n]*PCI.DSS.321-LambdaInsideVPC`, joined)
}

// scratchTemplate synthesizes a stack with an unversioned bucket that deletes its objects
// when removed (a custom resource provider) and returns its template file.
func scratchTemplate(t *testing.T, id string) string {
	t.Helper()
	stack := constructstest.NewStack(synthesized.app, id)
	awss3.NewBucket(stack, jsii.String("Bucket"), &awss3.BucketProps{
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY, AutoDeleteObjects: jsii.Bool(true)})
	b, err := json.Marshal(constructstest.Synth(t, stack))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), id+".template.json")
	require.NoError(t, os.WriteFile(file, b, 0o644))
	return file
}

// TestNagSuppressionsArePerResource: a stack-wide suppression would hide the same finding
// on any future resource, so every accepted finding is recorded on the resources it holds
// for, and none on the stack.
func TestNagSuppressionsArePerResource(t *testing.T) {
	templates := map[string]map[string]any{}
	for name, tmpl := range synthesized.templates {
		templates[name] = tmpl
	}
	b, err := os.ReadFile(filepath.Join(synthesized.outdir, *synthesized.built.Delivery.TemplateFile()))
	require.NoError(t, err)
	var pipeline map[string]any
	require.NoError(t, json.Unmarshal(b, &pipeline))
	templates["pipeline"] = pipeline
	for name, tmpl := range templates {
		t.Run(name, func(t *testing.T) {
			md, _ := tmpl["Metadata"].(map[string]any)
			assert.NotContains(t, md, "cdk_nag", "a stack-wide cdk-nag suppression")
			suppressed := 0
			for id, r := range tmpl["Resources"].(map[string]any) {
				rmd, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, ok := rmd["cdk_nag"].(map[string]any)
				if !ok {
					continue
				}
				suppressed++
				for _, rule := range nag["rules_to_suppress"].([]any) {
					reason, _ := rule.(map[string]any)["reason"].(string)
					assert.NotEmpty(t, reason, "%s: a suppression without a reason", id)
				}
			}
			assert.NotZero(t, suppressed, "the accepted findings are on their resources")
		})
	}
}

// TestOnlyXRayIsGrantedOnEveryResource keeps the one accepted Resource::* finding
// (AwsSolutions-IAM5 on the functions' default policies) true: the only actions granted on
// every resource are X-Ray's, which accept nothing else.
func TestOnlyXRayIsGrantedOnEveryResource(t *testing.T) {
	xray := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true}
	for name, tmpl := range synthesized.templates {
		for id, r := range tmpl["Resources"].(map[string]any) {
			r := r.(map[string]any)
			if r["Type"] != "AWS::IAM::Policy" {
				continue
			}
			doc := r["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				st := st.(map[string]any)
				if !slices.Contains(iam.Values(st["Resource"]), any("*")) {
					continue
				}
				for _, a := range iam.Values(st["Action"]) {
					assert.True(t, xray[a.(string)], "%s %s: %v granted on every resource", name, id, a)
				}
			}
		}
	}
}
