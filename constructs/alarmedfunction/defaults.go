package alarmedfunction

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Secure and operational defaults of the construct, kept in one place. Every
// optional field of AlarmedFunctionProps falls back to one of these values.
const (
	// DefaultMemorySize is the function memory in MB.
	DefaultMemorySize = 256
	// MinMemorySize is the smallest memory size Lambda accepts, in MB.
	MinMemorySize = 128
	// MaxMemorySize is the largest memory size Lambda accepts, in MB.
	MaxMemorySize = 10240
	// DefaultTimeoutSeconds is the function timeout.
	DefaultTimeoutSeconds = 10
	// MaxTimeoutSeconds is the largest timeout Lambda accepts.
	MaxTimeoutSeconds = 900
	// MaxSecurityGroups is the most security groups Lambda attaches to a function.
	MaxSecurityGroups = 5
	// DefaultTracing is the function's X-Ray tracing mode.
	DefaultTracing = awslambda.Tracing_ACTIVE
	// DefaultLogRetention is how long the function's log group keeps events.
	DefaultLogRetention = awslogs.RetentionDays_ONE_MONTH
	// DefaultRemovalPolicy applies to the log group when the stack deletes it.
	DefaultRemovalPolicy = awscdk.RemovalPolicy_DESTROY
	// DefaultErrorThreshold is the number of errors in one AlarmPeriod that
	// sets off the errors alarm.
	DefaultErrorThreshold = 1
	// DefaultErrorRatePercent is the error rate (errors per 100 invocations
	// in one AlarmPeriod) that sets off the error-rate alarm.
	DefaultErrorRatePercent = 5
	// DefaultDurationAlarmPercent is the p99 duration, as a percentage of the
	// timeout, that sets off the duration alarm.
	DefaultDurationAlarmPercent = 80
	// AliasName is the name of the alias every caller and event source
	// should invoke, and that CodeDeploy shifts between versions.
	AliasName = "live"
	// Handler is the executable name of a provided.al2023 Go function.
	Handler = "bootstrap"
	// AlarmPeriodMinutes is the period of every alarm's metric.
	AlarmPeriodMinutes = 5
)

// alarmPeriod is the period of every alarm's metric.
func alarmPeriod() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(AlarmPeriodMinutes)) }
