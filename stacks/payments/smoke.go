package payments

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// SmokeLeadingKeys are the partition keys a smoke test may read: the smoke provider's
// transactions and daily totals (services/internal/store's TxnPK and TotalPK).
func SmokeLeadingKeys() []string {
	return []string{"TXN#" + contract.SmokeProvider + "#*", "TOTAL#" + contract.SmokeProvider + "#*"}
}

// SmokeStatements are what a smoke test of env may do, and all it may do: read the env's API
// key (the statement requires the env's tag), the smoke provider's signing secret (never the
// real providers'), and the table's items of the smoke provider (dynamodb:LeadingKeys).
func SmokeStatements(e envs.Env) []awsiam.PolicyStatement {
	partition := contract.Partition(e.Region)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition, service, e.Region, e.Account, resource)
	}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("apigateway:GET"),
			Resources:  jsii.Strings(fmt.Sprintf("arn:%s:apigateway:%s::/apikeys/*", partition, e.Region)),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + contract.EnvTag: e.Name}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(arn("secretsmanager", "secret:"+contract.SmokeSecretName(e.Name)+"-*")),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("dynamodb:GetItem", "dynamodb:Query"),
			Resources:  jsii.Strings(arn("dynamodb", "table/"+e.StageName())),
			Conditions: &map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": SmokeLeadingKeys()}},
		}),
	}
}

// smokeRole creates, for an env in another account than the pipeline's, the role the
// pipeline's smoke step of this env assumes (contract.SmokeRoleName): only that step's role
// (contract.SmokeProjectRoleName in the pipeline's account) may assume it, and it may do
// SmokeStatements and nothing else.
func (b *builder) smokeRole(pipelineAccount string) {
	e := b.e
	project := fmt.Sprintf("arn:%s:iam::%s:role/%s", contract.Partition(e.Region), pipelineAccount, contract.SmokeProjectRoleName(e.Name))
	b.s.SmokeRole = awsiam.NewRole(b.s.Stack, jsii.String("SmokeRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(contract.SmokeRoleName(e.Name)),
		Description:        jsii.String("payhook " + e.Name + ": assumed by the pipeline's smoke step of this env only"),
		AssumedBy:          awsiam.NewArnPrincipal(jsii.String(project)),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	for _, st := range SmokeStatements(e) {
		b.s.SmokeRole.AddToPolicy(st)
	}
}
