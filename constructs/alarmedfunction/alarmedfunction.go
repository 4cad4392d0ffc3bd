package alarmedfunction

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarm"
	"github.com/payhook/payhook/constructs/internal/check"
)

// ErrorRateExpression is the CloudWatch metric-math expression behind
// ErrorRateAlarm: the percentage of failed invocations, 0 (not a division
// by zero) when there were none.
const ErrorRateExpression = "IF(invocations > 0, 100 * errors / invocations, 0)"

// AlarmedFunction is a Go (provided.al2023, arm64) Lambda function with its
// own log group, a "live" alias, four alarms on that alias, and optionally a
// CodeDeploy deployment group that shifts the alias to new versions and
// rolls back on any alarm.
//
// Every alarm watches the ALIAS's metrics (dimensions FunctionName and
// Resource "<name>:live"), not the function's: they measure the traffic
// that callers and event sources actually send through the alias (during a
// canary, both versions behind it), which is what CodeDeploy needs to decide
// a rollback; ad-hoc invocations of $LATEST do not page anyone. Invoke the
// alias, never the bare function.
type AlarmedFunction struct {
	constructs.Construct

	// Function is the Lambda function.
	Function awslambda.Function
	// Alias is the "live" alias on the function's current version; point
	// integrations and event sources at it.
	Alias awslambda.Alias
	// LogGroup receives the function's logs (JSON format).
	LogGroup awslogs.LogGroup
	// ErrorsAlarm fires when the alias's Errors (sum over 5 minutes) reach
	// ErrorThreshold.
	ErrorsAlarm awscloudwatch.Alarm
	// ErrorRateAlarm fires when ErrorRateExpression (over 5 minutes)
	// reaches ErrorRatePercent.
	ErrorRateAlarm awscloudwatch.Alarm
	// ThrottlesAlarm fires on any throttled invocation within 5 minutes.
	ThrottlesAlarm awscloudwatch.Alarm
	// DurationAlarm fires when the p99 Duration over 5 minutes reaches
	// DurationAlarmPercent of the timeout.
	DurationAlarm awscloudwatch.Alarm
	// Alarms lists the four alarms above.
	Alarms []awscloudwatch.IAlarm
	// DeploymentGroup is the CodeDeploy deployment group, or nil when
	// AlarmedFunctionProps.DeploymentConfig is nil.
	DeploymentGroup awscodedeploy.LambdaDeploymentGroup
}

// NewAlarmedFunction creates an AlarmedFunction. It validates props first
// and panics, before creating anything, with an error listing every problem
// (see AlarmedFunctionProps.Validate).
func NewAlarmedFunction(scope constructs.Construct, id string, props *AlarmedFunctionProps) *AlarmedFunction {
	if err := props.Validate(); err != nil {
		panic(fmt.Errorf("alarmedfunction %q: invalid props:\n%w", id, err))
	}
	p := props.WithDefaults()

	c := constructs.NewConstruct(scope, jsii.String(id))
	f := &AlarmedFunction{Construct: c}

	f.LogGroup = awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
		EncryptionKey: p.LogEncryptionKey,
	})

	var env *map[string]*string
	if len(p.Environment) > 0 {
		m := make(map[string]*string, len(p.Environment))
		for k, v := range p.Environment {
			m[k] = v
		}
		env = &m
	}
	f.Function = awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String(Handler),
		Code:                         code(p),
		Role:                         p.Role,
		Vpc:                          p.Vpc,
		VpcSubnets:                   p.VpcSubnets,
		SecurityGroups:               securityGroups(p.SecurityGroups),
		FunctionName:                 p.FunctionName,
		Description:                  p.Description,
		MemorySize:                   p.MemorySize,
		Timeout:                      p.Timeout,
		Environment:                  env,
		ReservedConcurrentExecutions: p.ReservedConcurrency,
		Tracing:                      p.Tracing,
		LogGroup:                     f.LogGroup,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
	})
	if p.Tracing != awslambda.Tracing_DISABLED {
		justifyTracing(f.Function)
	}

	f.Alias = awslambda.NewAlias(c, jsii.String("Alias"), &awslambda.AliasProps{
		AliasName: jsii.String(AliasName),
		Version:   f.Function.CurrentVersion(),
	})

	f.addAlarms(c, p)
	if p.DeploymentConfig != nil {
		f.addDeploymentGroup(c, p)
	}
	return f
}

// code is the function's code: p.Code, or the asset of p.CodeDir.
func code(p AlarmedFunctionProps) awslambda.Code {
	if p.Code != nil {
		return p.Code
	}
	return awslambda.Code_FromAsset(p.CodeDir, nil)
}

// UnexercisedGrantsMetadata is the Metadata key, on the role's default policy, that maps each
// grant no code of the function exercises (so a least-privilege check of its calls never
// sees it) to the reason it is there: the X-Ray grants of active tracing.
const UnexercisedGrantsMetadata = "least-privilege:unexercised-grants"

// justifyTracing records, on the role's default policy, why its X-Ray grants are never
// exercised by a local run: tracing (active or pass-through) grants xray:PutTraceSegments and
// xray:PutTelemetryRecords for the X-Ray daemon that Lambda runs beside the function, which
// sends the segments; the function's own code never calls X-Ray.
func justifyTracing(fn awslambda.Function) {
	policy := fn.Role().Node().TryFindChild(jsii.String("DefaultPolicy"))
	if policy == nil {
		return
	}
	res, ok := policy.Node().DefaultChild().(awscdk.CfnResource)
	if !ok {
		return
	}
	why := "X-Ray tracing (active or pass-through): Lambda's X-Ray daemon sends the segments with the role, not the function's code; X-Ray is not emulated locally"
	res.AddMetadata(jsii.String(UnexercisedGrantsMetadata), map[string]any{
		"xray:PutTraceSegments": why, "xray:PutTelemetryRecords": why})
}

// addAlarms creates the four alarms on the alias's metrics.
func (f *AlarmedFunction) addAlarms(c constructs.Construct, p AlarmedFunctionProps) {
	path := *c.Node().Path()
	sum := func(m func(*awscloudwatch.MetricOptions) awscloudwatch.Metric) awscloudwatch.Metric {
		return m(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: alarmPeriod()})
	}
	errorsMetric := sum(f.Alias.MetricErrors)
	invocations := sum(f.Alias.MetricInvocations)

	f.ErrorsAlarm = alarm.New(c, "ErrorsAlarm", errorsMetric, *p.ErrorThreshold,
		fmt.Sprintf("%s (alias %s): %g or more errors in %d minutes", path, AliasName, *p.ErrorThreshold, AlarmPeriodMinutes), p.AlarmTopic)

	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(ErrorRateExpression),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors":      errorsMetric,
			"invocations": invocations,
		},
		Label:  jsii.String("Error rate (%)"),
		Period: alarmPeriod(),
	})
	f.ErrorRateAlarm = alarm.New(c, "ErrorRateAlarm", rate, *p.ErrorRatePercent,
		fmt.Sprintf("%s (alias %s): error rate of %g%% or more over %d minutes", path, AliasName, *p.ErrorRatePercent, AlarmPeriodMinutes), p.AlarmTopic)

	f.ThrottlesAlarm = alarm.New(c, "ThrottlesAlarm", sum(f.Alias.MetricThrottles), 1,
		fmt.Sprintf("%s (alias %s): throttled invocations in %d minutes", path, AliasName, AlarmPeriodMinutes), p.AlarmTopic)

	durationMs := check.Millis(p.Timeout) * *p.DurationAlarmPercent / 100
	f.DurationAlarm = alarm.New(c, "DurationAlarm",
		f.Alias.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: alarmPeriod()}),
		durationMs,
		fmt.Sprintf("%s (alias %s): p99 duration at or above %g ms (%g%% of the %s timeout) over %d minutes",
			path, AliasName, durationMs, *p.DurationAlarmPercent, check.Human(p.Timeout), AlarmPeriodMinutes), p.AlarmTopic)

	f.Alarms = []awscloudwatch.IAlarm{f.ErrorsAlarm, f.ErrorRateAlarm, f.ThrottlesAlarm, f.DurationAlarm}

}

// addDeploymentGroup creates the CodeDeploy group that shifts the alias to new versions and
// rolls back on a failed deployment or any of the alarms.
func (f *AlarmedFunction) addDeploymentGroup(c constructs.Construct, p AlarmedFunctionProps) {
	refs := make([]interfacesawscloudwatch.IAlarmRef, 0, len(f.Alarms))
	for _, a := range f.Alarms {
		refs = append(refs, a)
	}
	f.DeploymentGroup = awscodedeploy.NewLambdaDeploymentGroup(c, jsii.String("DeploymentGroup"), &awscodedeploy.LambdaDeploymentGroupProps{
		Alias:            f.Alias,
		DeploymentConfig: p.DeploymentConfig,
		Alarms:           &refs,
		AutoRollback: &awscodedeploy.AutoRollbackConfig{
			FailedDeployment:  jsii.Bool(true),
			DeploymentInAlarm: jsii.Bool(true),
		},
	})
}

// securityGroups is the function's security groups for its props: nil (CDK creates one
// when the function is in a VPC) when none are given.
func securityGroups(groups []awsec2.ISecurityGroup) *[]awsec2.ISecurityGroup {
	if len(groups) == 0 {
		return nil
	}
	return &groups
}
