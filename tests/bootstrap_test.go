package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/iam"
	"github.com/payhook/payhook/pipeline/bootstrap"
)

// TestExecutionPolicyCoversEveryTemplateAndNothingElse: for each account the pipeline deploys
// to (dev and staging's, prod's) and its own, the execution policy that `mage bootstrap`
// generates allows every action CloudFormation's handlers call for every resource of every
// template deploying there (else the deploy would fail), and nothing else: no action outside
// those handlers, no wildcard action, IAM only on the stacks' own roles, the templates' AWS
// managed policies and the services their roles are passed to.
func TestExecutionPolicyCoversEveryTemplateAndNothingElse(t *testing.T) {
	cdk, err := os.ReadFile(filepath.Join("..", bootstrap.CDKTemplate))
	require.NoError(t, err)
	stacks, err := cfn.Stacks(synthesized.outdir)
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, env := range []string{"dev", "prod", "pipeline"} {
		t.Run(env, func(t *testing.T) {
			plan, err := bootstrap.NewPlan(synthesized.outdir, "../envs", env, cdk)
			require.NoError(t, err)
			docs := roundTrip(t, plan.Policies)
			for _, d := range plan.Policies {
				b, _ := json.Marshal(d)
				assert.LessOrEqual(t, len(b), bootstrap.MaxPolicyChars)
			}
			handled := map[string]bool{}
			for _, st := range stacks {
				if st.Account != plan.Account || st.Region != plan.Region {
					continue
				}
				covered[st.ID] = true
				for _, a := range allowedForStack(t, docs, plan, st) {
					handled[a] = true
				}
			}
			for _, d := range docs {
				for _, raw := range d.(map[string]any)["Statement"].([]any) {
					for _, a := range iam.Values(raw.(map[string]any)["Action"]) {
						assert.NotContains(t, a, "*", "no wildcard action")
						assert.True(t, handled[a.(string)], "%s: %s is granted but no resource of the templates needs it", env, a)
					}
				}
			}
			refusals(t, docs, plan)
		})
	}
	for _, st := range stacks {
		if st.Account != "" && st.Account != "000000000000" {
			assert.True(t, covered[st.ID], "%s deploys under one of the policies", st.ID)
		}
	}
}

// allowedForStack checks every handler action of every resource of st against docs, and
// returns the actions checked.
func allowedForStack(t *testing.T, docs []any, plan *bootstrap.Plan, st cfn.Stack) []string {
	t.Helper()
	tmpl, err := cfn.Load(st)
	require.NoError(t, err)
	raw := readJSON(t, st.File)
	name := st.StackName
	var checked []string
	ev := iam.Evaluator{}
	for id, r := range tmpl.Resources {
		actions, ok := bootstrap.HandlerActions(r.Type)
		require.True(t, ok, "%s: %s has no handler permissions", st.ID, r.Type)
		props, _ := raw["Resources"].(map[string]any)[id].(map[string]any)["Properties"].(map[string]any)
		if r.Type == "AWS::IAM::Policy" {
			assert.Empty(t, props["Users"], "%s: a policy on users", id)
			assert.Empty(t, props["Groups"], "%s: a policy on groups", id)
		}
		role := fmt.Sprintf("arn:aws:iam::%s:role/%s-%s-ABCDEF123456", plan.Account, name, id)
		if n, ok := props["RoleName"].(string); ok {
			role = fmt.Sprintf("arn:aws:iam::%s:role/%s", plan.Account, n)
		}
		for _, a := range actions {
			if strings.HasPrefix(a, "iam:") && (strings.Contains(a, "User") || strings.Contains(a, "Group")) {
				continue
			}
			if a == "iam:PassRole" && bootstrap.PassedToService(r.Type) == "" {
				continue // a type that can take a role (SNS logging, API integrations) but is given none here
			}
			req := iam.Request{Role: "exec", Action: a, Resource: fmt.Sprintf("arn:aws:%s:%s:%s:x", strings.Split(a, ":")[0], plan.Region, plan.Account)}
			if strings.HasPrefix(a, "iam:") {
				req.Resource = role
			}
			switch a {
			case "iam:PassRole":
				req.Context = map[string]string{"iam:passedtoservice": bootstrap.PassedToService(r.Type)}
			case "iam:AttachRolePolicy", "iam:DetachRolePolicy":
				req.Context = map[string]string{"iam:policyarn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
			case "iam:CreateServiceLinkedRole":
				req.Resource = "arn:aws:iam::" + plan.Account + ":role/aws-service-role/wafv2.amazonaws.com/AWSServiceRoleForWAFV2Logging"
			}
			d := ev.Evaluate(docs, req)
			assert.True(t, d.Allowed, "%s: %s (%s) needs %s on %s: %s", st.ID, id, r.Type, a, req.Resource, d.Why)
			checked = append(checked, a)
		}
	}
	return checked
}

// refusals: what the policy must not allow.
func refusals(t *testing.T, docs []any, plan *bootstrap.Plan) {
	t.Helper()
	other := "arn:aws:iam::" + plan.Account + ":role/someone-elses-role"
	for _, req := range []iam.Request{
		{Action: "iam:CreateRole", Resource: other},
		{Action: "iam:PutRolePolicy", Resource: other},
		{Action: "iam:PassRole", Resource: other, Context: map[string]string{"iam:passedtoservice": "lambda.amazonaws.com"}},
		{Action: "iam:PassRole", Resource: "arn:aws:iam::" + plan.Account + ":role/" + plan.Stacks[0] + "-x",
			Context: map[string]string{"iam:passedtoservice": "ec2.amazonaws.com"}},
		{Action: "iam:AttachRolePolicy", Resource: "arn:aws:iam::" + plan.Account + ":role/" + plan.Stacks[0] + "-x",
			Context: map[string]string{"iam:policyarn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
		{Action: "iam:CreateUser", Resource: "arn:aws:iam::" + plan.Account + ":user/" + plan.Stacks[0] + "-x"},
		{Action: "ec2:RunInstances", Resource: "*"},
		{Action: "sts:AssumeRole", Resource: "*"},
	} {
		req.Role = "exec"
		assert.False(t, iam.Evaluator{}.Evaluate(docs, req).Allowed, "%s on %s is not the templates' to do", req.Action, req.Resource)
	}
	assert.False(t, slices.Contains(plan.Stacks, ""), "every stack has a name")
}

func roundTrip(t *testing.T, v any) []any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out []any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func readJSON(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
