package payments

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// Stage is the deployable unit of one environment: a Stage named payhook-<name> holding
// its payments stack.
type Stage struct {
	awscdk.Stage
	// Env is the environment the stage deploys.
	Env envs.Env
	// Payments is the environment's payments stack.
	Payments *Stack
}

// NewStage builds the stage of env in the env's account and region. Its stack is named
// payhook-<name>.
func NewStage(scope constructs.Construct, env envs.Env, assetsDir string) *Stage {
	account := env.Account
	if account == "" && env.LocalOnly {
		account = contract.LocalAccount // the emulators' account, so ARNs are literal as in AWS
	}
	var where *awscdk.Environment
	if account != "" || env.Region != "" {
		where = &awscdk.Environment{Region: jsii.String(env.Region)}
		if account != "" {
			where.Account = jsii.String(account)
		}
	}
	stage := awscdk.NewStage(scope, jsii.String(env.StageName()), &awscdk.StageProps{Env: where})
	p := NewStack(stage, "Payments", &StackProps{
		StackProps: awscdk.StackProps{
			Synthesizer: synthesizer(env),
			StackName:   jsii.String(env.StageName()),
			Description: jsii.String("payhook " + env.Name + ": serverless payment-notification webhooks"),
			// Account and region come from the stage.
		},
		Env:       env,
		AssetsDir: assetsDir,
	})
	return &Stage{Stage: stage, Env: env, Payments: p}
}

// synthesizer is CDK's default synthesizer (the bootstrapped roles and buckets), with the
// CloudFormation execution role's partition written out from the env's region instead of
// left to ${AWS::Partition}. The pipeline's deploy actions pass that role ARN to
// CloudFormation; as a literal it is a plain string in the pipeline template rather than an
// Fn::Join, which AWS's linter (cfn-lint E3703) flags on CodePipeline action roles.
func synthesizer(env envs.Env) awscdk.IStackSynthesizer {
	return awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{
		CloudFormationExecutionRole: jsii.String("arn:" + contract.Partition(env.Region) +
			":iam::${AWS::AccountId}:role/cdk-${Qualifier}-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"),
	})
}
