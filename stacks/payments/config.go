package payments

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
)

// deploymentConfig is the CodeDeploy predefined config an env's strategy names; nil for
// all-at-once (no deployment group, the alias moves at once). The env loader accepts only
// the combinations envs.Deployment.ConfigName names, each one of CodeDeploy's predefined
// Lambda configurations, so the name is referred to as CodeDeploy spells it.
func deploymentConfig(scope constructs.Construct, e envs.Env) awscodedeploy.ILambdaDeploymentConfig {
	name := e.Deployment.ConfigName()
	if name == "" || name == "LambdaAllAtOnce" {
		return nil
	}
	return awscodedeploy.LambdaDeploymentConfig_FromLambdaDeploymentConfigName(scope, jsii.String("DeploymentConfig"),
		jsii.String("CodeDeployDefault."+name))
}

// retentionDays converts a validated day count into CloudWatch Logs' enum.
func retentionDays(days int) awslogs.RetentionDays {
	m := map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
		731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS,
		2192: awslogs.RetentionDays_SIX_YEARS, 2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
		3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
	}
	if r, ok := m[days]; ok {
		return r
	}
	panic(fmt.Sprintf("payments: log retention of %d days is not a CloudWatch Logs value (envs validation should have refused it)", days))
}
