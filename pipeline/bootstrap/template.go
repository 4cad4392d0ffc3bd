package bootstrap

import (
	"encoding/json"
	"fmt"

	"github.com/goccy/go-yaml"

	"github.com/payhook/payhook/internal/contract"
)

// Variant is the BootstrapVariant of payhook's bootstrap template: the CDK CLI refuses to
// overwrite a bootstrap stack of another variant, so a plain `cdk bootstrap` cannot silently
// restore the account-wide trust.
const Variant = "payhook: trusts the pipeline's named roles; execution policy from the templates"

// trusted are the pipeline-account roles each bootstrap role may be assumed by: the deploy
// role by CodePipeline's role (the deploy actions) and the permissions check's (its diff);
// the publishing roles by the asset project's.
var trusted = map[string][]string{
	"DeploymentActionRole": {contract.PipelineRoleName, contract.PipelineCheckRoleName},
	"FilePublishingRole":   {contract.PipelineAssetsRoleName},
	"ImagePublishingRole":  {contract.PipelineAssetsRoleName},
}

// BootstrapTemplate rewrites CDK's bootstrap template (cdkTemplate, the YAML the pinned CLI ships)
// into payhook's, as JSON: the deploy and publishing roles trust the principals of the
// trusted account (--trust, the pipeline's; its first) only when they are the pipeline roles
// named in trusted, and the CloudFormation execution role gets the policy documents
// (ExecutionPolicy, Documents) as managed policies the stack creates,
// payhook-cfn-exec-<region>-<n>, instead of --cloudformation-execution-policies.
func BootstrapTemplate(cdkTemplate []byte, policies []map[string]any) ([]byte, error) {
	var t map[string]any
	if err := yaml.Unmarshal(cdkTemplate, &t); err != nil {
		return nil, fmt.Errorf("bootstrap template: %w", err)
	}
	resources, _ := t["Resources"].(map[string]any)
	params, _ := t["Parameters"].(map[string]any)
	if resources == nil || params == nil {
		return nil, fmt.Errorf("bootstrap template: no Resources or Parameters: not CDK's template")
	}
	for role, names := range trusted {
		if err := trustOnly(resources, role, names); err != nil {
			return nil, err
		}
	}
	if err := attachPolicies(resources, policies); err != nil {
		return nil, err
	}
	// The execution role no longer reads --cloudformation-execution-policies.
	if conds, ok := t["Conditions"].(map[string]any); ok {
		delete(conds, "HasCloudFormationExecutionPolicies")
	}
	variant, _ := params["BootstrapVariant"].(map[string]any)
	if variant == nil {
		return nil, fmt.Errorf("bootstrap template: no BootstrapVariant parameter")
	}
	variant["Default"] = Variant
	t["Description"] = "CDK bootstrap for payhook: the deploy and publishing roles trust the pipeline's named roles only; the CloudFormation execution role may do what the templates' resource types need"
	return json.MarshalIndent(t, "", " ")
}

// trustOnly adds, to every statement of role's trust that names the TrustedAccounts, the
// condition that the caller is one of the named roles of the first trusted account.
func trustOnly(resources map[string]any, role string, names []string) error {
	r, _ := resources[role].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	doc, _ := props["AssumeRolePolicyDocument"].(map[string]any)
	statements, _ := doc["Statement"].([]any)
	if len(statements) == 0 {
		return fmt.Errorf("bootstrap template: %s has no trust policy", role)
	}
	var arns []any
	for _, n := range names {
		arns = append(arns, map[string]any{"Fn::Sub": []any{"arn:${AWS::Partition}:iam::${Pipeline}:role/" + n,
			map[string]any{"Pipeline": map[string]any{"Fn::Select": []any{0, map[string]any{"Ref": "TrustedAccounts"}}}}}})
	}
	arnLike := map[string]any{"aws:PrincipalArn": arns}
	changed := 0
	for _, raw := range statements {
		// Trust of the TrustedAccounts: {"Fn::If": ["HasTrustedAccounts", statement, NoValue]}.
		cond, _ := raw.(map[string]any)["Fn::If"].([]any)
		if len(cond) != 3 || cond[0] != "HasTrustedAccounts" {
			continue
		}
		st, _ := cond[1].(map[string]any)
		switch c := st["Condition"].(type) {
		case nil:
			st["Condition"] = map[string]any{"ArnLike": arnLike}
		case map[string]any:
			ifs, _ := c["Fn::If"].([]any) // the external-id condition
			if len(ifs) != 3 {
				return fmt.Errorf("bootstrap template: %s: a trust condition payhook does not know", role)
			}
			withID, _ := ifs[1].(map[string]any)
			withID["ArnLike"] = arnLike
			ifs[2] = map[string]any{"ArnLike": arnLike}
		}
		changed++
	}
	if changed == 0 {
		return fmt.Errorf("bootstrap template: %s does not trust TrustedAccounts: not CDK's template", role)
	}
	return nil
}

// attachPolicies adds the execution policy documents as managed policies and attaches them,
// alone, to the CloudFormation execution role.
func attachPolicies(resources map[string]any, policies []map[string]any) error {
	exec, _ := resources["CloudFormationExecutionRole"].(map[string]any)
	props, _ := exec["Properties"].(map[string]any)
	if props == nil {
		return fmt.Errorf("bootstrap template: no CloudFormationExecutionRole")
	}
	if len(policies) == 0 {
		return fmt.Errorf("bootstrap template: no execution policy")
	}
	var refs []any
	for i, doc := range policies {
		id := fmt.Sprintf("PayhookExecutionPolicy%d", i+1)
		resources[id] = map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Properties": map[string]any{
			"ManagedPolicyName": map[string]any{"Fn::Sub": ExecutionPolicyName(i)},
			"Description":       "payhook: what CloudFormation may do to deploy the templates of this account (pipeline/bootstrap)",
			"PolicyDocument":    doc,
		}}
		refs = append(refs, map[string]any{"Ref": id})
	}
	props["ManagedPolicyArns"] = refs
	return nil
}

// ExecutionPolicyName is the name of the i-th execution policy, with ${AWS::Region}.
func ExecutionPolicyName(i int) string {
	return fmt.Sprintf("payhook-cfn-exec-${AWS::Region}-%d", i+1)
}
