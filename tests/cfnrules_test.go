package tests

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/cfnrules"
	"github.com/payhook/payhook/internal/naggate"
)

// gatedTemplates lists every template the gate must pass: each env's payments stack, each
// preview copy's, the pipeline stack (all in the one synthesized assembly) and the example
// app.
func gatedTemplates(t *testing.T) []cfn.Stack {
	t.Helper()
	list, err := cfn.Stacks(synthesized.outdir)
	require.NoError(t, err)
	more, err := cfn.Stacks(exampleAssembly(t))
	require.NoError(t, err)
	list = append(list, more...)

	// Every env and the pipeline are there: a gate that checks fewer templates proves nothing.
	files := map[string]bool{}
	for _, st := range list {
		files[st.File] = true
	}
	for name, st := range synthesized.built.Stages {
		assert.True(t, files[filepath.Join(*st.Outdir(), *st.Payments.TemplateFile())], "env %s is gated", name)
	}
	assert.Len(t, synthesized.built.Stages, len(synthesized.envs))
	for name, st := range synthesized.built.Previews {
		assert.True(t, files[filepath.Join(*st.Outdir(), *st.Payments.TemplateFile())], "preview %s is gated", name)
	}
	assert.True(t, files[filepath.Join(synthesized.outdir, *synthesized.built.Delivery.TemplateFile())], "the pipeline is gated")
	assert.True(t, files[example.file], "the example app is gated")
	return list
}

// deployedTemplates are gatedTemplates without the example app: the templates payhook
// deploys, which its security gates hold to its own controls (the example is another
// team's code).
func deployedTemplates(t *testing.T) []cfn.Stack {
	t.Helper()
	var out []cfn.Stack
	for _, st := range gatedTemplates(t) {
		if st.File != example.file {
			out = append(out, st)
		}
	}
	return out
}

// TestCloudFormationRules applies CloudFormation's own rules (internal/cfnrules) to every
// template: staging and prod differ from dev (deployment groups, retention, approvals), so a
// check on dev alone proves nothing about them.
func TestCloudFormationRules(t *testing.T) {
	for _, st := range gatedTemplates(t) {
		t.Run(st.ID, func(t *testing.T) {
			tmpl, err := cfn.Load(st)
			require.NoError(t, err)
			r := cfnrules.Check(tmpl)
			t.Log(r.Quotas())
			assert.NoError(t, r.Err())
		})
	}
}

// TestStagingAndProdShape asserts the fixed shape of the envs with CodeDeploy: the API's
// 5xx alarm rolls ingest back (it is in the ingest deployment group) without a dependency
// cycle, and the alerts topic policy lets CloudWatch publish, next to the TLS-only Deny.
func TestStagingAndProdShape(t *testing.T) {
	for _, name := range []string{"staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			tmpl := synthesized.templates[name]
			require.NotNil(t, tmpl)
			res := tmpl["Resources"].(map[string]any)
			var server5xx, group string
			for id, raw := range res {
				r := raw.(map[string]any)
				p, _ := r["Properties"].(map[string]any)
				if r["Type"] == "AWS::CloudWatch::Alarm" && p["MetricName"] == "5XXError" {
					server5xx = id
					assert.Contains(t, fmt.Sprint(p["Dimensions"]), "Value:v1", "the stage is named literally")
				}
				if r["Type"] == "AWS::CodeDeploy::DeploymentGroup" && strings.HasPrefix(id, "IngressHandler") {
					group = fmt.Sprint(p["AlarmConfiguration"])
				}
			}
			require.NotEmpty(t, server5xx)
			assert.Contains(t, group, server5xx, "the API's 5xx alarm is in the ingest deployment group")

			var statements []string
			for _, raw := range res {
				r := raw.(map[string]any)
				if r["Type"] == "AWS::SNS::TopicPolicy" {
					for _, s := range r["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
						st := s.(map[string]any)
						statements = append(statements, fmt.Sprint(st["Sid"], " ", st["Effect"], " ", st["Principal"], " ", st["Condition"]))
					}
				}
			}
			require.Len(t, statements, 2, "%v", statements)
			joined := strings.Join(statements, "\n")
			assert.Contains(t, joined, "AllowPublishThroughSSLOnly Deny")
			assert.Contains(t, joined, "AllowCloudWatchAlarmsToPublish Allow map[Service:cloudwatch.amazonaws.com]")
			assert.Contains(t, joined, "aws:SourceAccount")
			assert.Contains(t, joined, "aws:SourceArn")
		})
	}
}

// TestCloudFormationIncludeRefusesTheOldCycle checks that the import of the nag gate
// (TestNagGates), CDK's own cloudformation-include, can fail: the prod template as
// synthesized before the fix (kept by internal/cfnrules) is refused.
func TestCloudFormationIncludeRefusesTheOldCycle(t *testing.T) {
	_, err := naggate.Check(synthesized.app, "IncludeOldProd",
		filepath.Join("..", "internal", "cfnrules", "testdata", "prod-before-fix.template.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Found a cycle between resources")
}
