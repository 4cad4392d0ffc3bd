package payments

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/payhook/payhook/envs"
)

// deploymentConfig maps an env's strategy to CodeDeploy's predefined config; nil for
// all-at-once (no deployment group, the alias moves at once).
func deploymentConfig(e envs.Env) awscodedeploy.ILambdaDeploymentConfig {
	switch e.Deployment.ConfigName() {
	case "LambdaCanary10Percent5Minutes":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_5MINUTES()
	case "LambdaCanary10Percent10Minutes":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_10MINUTES()
	case "LambdaCanary10Percent15Minutes":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_15MINUTES()
	case "LambdaCanary10Percent30Minutes":
		return awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_30MINUTES()
	case "LambdaLinear10PercentEvery1Minute":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_1MINUTE()
	case "LambdaLinear10PercentEvery2Minutes":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_2MINUTES()
	case "LambdaLinear10PercentEvery3Minutes":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_3MINUTES()
	case "LambdaLinear10PercentEvery10Minutes":
		return awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_10MINUTES()
	case "LambdaAllAtOnce":
		return nil
	default:
		panic(fmt.Sprintf("payments: env %s: no CodeDeploy configuration for %q", e.Name, e.Deployment.ConfigName()))
	}
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
