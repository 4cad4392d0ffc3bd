package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/pipeline"
)

// TestPipelineHoldsOnlyThePowerItUses: every service trust of the pipeline stack names its
// account and source (CodeBuild the project, CodePipeline this pipeline); the roles the
// target accounts trust carry the names they trust; no role may delete an artifact; the
// artifact bucket keeps every version under a customer managed key with access logs; the
// notifications topic is encrypted; only the approver role may approve, and only the
// principals envs/pipeline.yaml names may assume it.
func TestPipelineHoldsOnlyThePowerItUses(t *testing.T) {
	v := readPipeline(t, synthesized.outdir, synthesized.built.Delivery)
	account := *synthesized.built.Delivery.Account()
	names := map[string]bool{}
	for id, r := range v.Resources {
		switch r.Type {
		case "AWS::IAM::Role":
			if n, ok := r.Props["RoleName"].(string); ok {
				names[n] = true
			}
			for _, st := range r.Props["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				svc, _ := st["Principal"].(map[string]any)["Service"].(string)
				if svc == "codebuild.amazonaws.com" || svc == "codepipeline.amazonaws.com" {
					cond := fmt.Sprint(st["Condition"])
					assert.Contains(t, cond, "aws:SourceAccount:"+account, "%s trusts %s from any account", id, svc)
					assert.Regexp(t, `aws:SourceArn:\[?arn:aws:(codebuild|codepipeline):us-east-1:`+account+`:`, cond, "%s trusts %s for any source", id, svc)
				}
			}
		case "AWS::IAM::Policy":
			for _, st := range r.Props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				if strings.Contains(fmt.Sprint(st["Resource"]), "Artifacts") {
					assert.NotContains(t, fmt.Sprint(st["Action"]), "s3:DeleteObject", "%s may delete an artifact", id)
				}
			}
		case "AWS::S3::Bucket":
			assert.Equal(t, "Enabled", r.Props["VersioningConfiguration"].(map[string]any)["Status"], id)
		case "AWS::SNS::Topic":
			assert.NotNil(t, r.Props["KmsMasterKeyId"], "%s: SNS encryption at rest is opt-in", id)
		}
	}
	for _, n := range []string{contract.PipelineRoleName, contract.PipelineAssetsRoleName, contract.PipelineCheckRoleName, contract.PipelineApproverRoleName} {
		assert.True(t, names[n], "role %s exists under the name the bootstrap trusts", n)
	}
	approver := findRole(t, v, contract.PipelineApproverRoleName)
	assert.Contains(t, fmt.Sprint(approver.Props["AssumeRolePolicyDocument"]), "aws:PrincipalArn:[arn:aws:iam::111111111111:role/payments-approvers]")
	prodApproval := "arn:aws:codepipeline:us-east-1:" + account + ":payhook/payhook-prod/Approve-prod"
	var approvers []string
	for _, r := range v.Resources {
		if r.Type != "AWS::IAM::Policy" {
			continue
		}
		for _, st := range r.Props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if !strings.Contains(fmt.Sprint(st["Action"]), "codepipeline:PutApprovalResult") {
				continue
			}
			assert.NotContains(t, fmt.Sprint(st["Resource"]), "*", "%v may approve any approval", r.Props["Roles"])
			if strings.Contains(fmt.Sprint(st["Resource"]), prodApproval) {
				approvers = append(approvers, fmt.Sprint(r.Props["Roles"]))
			}
		}
	}
	require.Len(t, approvers, 1, "one role may approve prod")
	assert.Contains(t, approvers[0], "Approver")
}

func findRole(t *testing.T, v pipelineView, name string) resource {
	t.Helper()
	for _, r := range v.Resources {
		if r.Type == "AWS::IAM::Role" && r.Props["RoleName"] == name {
			return r
		}
	}
	t.Fatalf("no role %s", name)
	return resource{}
}

// TestSynthRefusesAPipelineWithoutItsApprovals: the check cmd/cdk runs after every synth,
// the pipeline's own synth step included, passes the pipeline as built and refuses one that
// deploys prod without its approval or without the verification of the approved assembly.
func TestSynthRefusesAPipelineWithoutItsApprovals(t *testing.T) {
	file := filepath.Join(synthesized.outdir, *synthesized.built.Delivery.TemplateFile())
	require.NoError(t, pipeline.CheckApprovals(file, synthesized.envs))
	for _, drop := range []string{"Approve-prod", "VerifyAssembly-prod", "CheckPermissions-prod.Check"} {
		t.Run(drop, func(t *testing.T) {
			tmpl := readJSON(t, file)
			for _, r := range tmpl["Resources"].(map[string]any) {
				r := r.(map[string]any)
				if r["Type"] != "AWS::CodePipeline::Pipeline" {
					continue
				}
				for _, st := range r["Properties"].(map[string]any)["Stages"].([]any) {
					st := st.(map[string]any)
					var kept []any
					for _, a := range st["Actions"].([]any) {
						if a.(map[string]any)["Name"] != drop {
							kept = append(kept, a)
						}
					}
					st["Actions"] = kept
				}
			}
			b, err := json.Marshal(tmpl)
			require.NoError(t, err)
			broken := filepath.Join(t.TempDir(), "pipeline.template.json")
			require.NoError(t, os.WriteFile(broken, b, 0o644))
			err = pipeline.CheckApprovals(broken, synthesized.envs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "deploys prod without "+drop)
		})
	}
	// An env file asking for an approval the pipeline lacks is refused too.
	var dev envs.Env
	for _, e := range synthesized.envs {
		if e.Name == "dev" {
			dev = e
		}
	}
	dev.Approval = envs.ApprovalManual
	err := pipeline.CheckApprovals(file, []envs.Env{dev})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deploys dev without Approve-dev first (envs/dev.yaml: approval: manual)")
}
