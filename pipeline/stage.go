package pipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
)

// PaymentsStage is the deployable unit of one environment: a Stage named
// payhook-<name> holding its payments stack. The pipeline deploys stages.
type PaymentsStage struct {
	awscdk.Stage
	// Payments is the environment's payments stack.
	Payments *PaymentsStack
}

// NewPaymentsStage builds the stage of env. Its stack is named payhook-<name>.
func NewPaymentsStage(scope constructs.Construct, env envs.Env, assetsDir string) *PaymentsStage {
	var where *awscdk.Environment
	if env.Account != "" || env.Region != "" {
		where = &awscdk.Environment{Region: jsii.String(env.Region)}
		if env.Account != "" {
			where.Account = jsii.String(env.Account)
		}
	}
	stage := awscdk.NewStage(scope, jsii.String(env.StageName()), &awscdk.StageProps{Env: where})
	p := NewPaymentsStack(stage, "Payments", &PaymentsStackProps{
		StackProps: awscdk.StackProps{
			StackName:   jsii.String(env.StageName()),
			Description: jsii.String("payhook " + env.Name + ": serverless payment-notification webhooks"),
			// Account and region come from the stage.
		},
		Env:       env,
		AssetsDir: assetsDir,
	})
	return &PaymentsStage{Stage: stage, Payments: p}
}
