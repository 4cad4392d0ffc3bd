// Package payments is the payments stack of one environment, built from an envs.Env with
// payhook's reusable constructs: the table, the alerts topic and its key, the signing
// secret, the four services with their grants, the alarms on the services' own metrics,
// tags and outputs; and the Stage (payhook-<env>) that deploys it.
package payments

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/keys"
)

// StackProps configures NewStack.
type StackProps struct {
	awscdk.StackProps
	// Env is the environment to build (required).
	Env envs.Env
	// AssetsDir holds <service>/bootstrap for every service (required; `mage build` writes
	// build/).
	AssetsDir string
}

// Stack is one environment of the payment-notification system. Every building block is
// exposed.
type Stack struct {
	awscdk.Stack
	// Table holds transactions, daily totals and failures (services/internal/store).
	Table awsdynamodb.Table
	// LogKey encrypts every log group of the stack (functions, API access, WAF).
	LogKey awskms.Key
	// AlertsKey encrypts the alerts topic; CloudWatch alarms may use it.
	AlertsKey awskms.Key
	// AlertsTopic receives every alarm and every dead-message alert.
	AlertsTopic awssns.Topic
	// SecretsKey encrypts both signing secrets; only their readers may decrypt with it.
	SecretsKey awskms.Key
	// SigningSecret holds the providers' webhook signing secrets.
	SigningSecret awssecretsmanager.Secret
	// SmokeSigningSecret holds the smoke provider's signing secret, generated at creation;
	// the pipeline's smoke step may read it and nothing of SigningSecret.
	SmokeSigningSecret awssecretsmanager.Secret
	// Worker is the accounting queue, its DLQ and the accounting function.
	Worker *queuedworker.QueuedWorker
	// Ingress is the API, WAF and the ingest function.
	Ingress *webhookingress.WebhookIngress
	// NotifyFailures consumes the DLQ.
	NotifyFailures *alarmedfunction.AlarmedFunction
	// Reconciler sweeps the outbox and the in-flight list.
	Reconciler *alarmedfunction.AlarmedFunction
	// ReconcileRule runs the reconciler every minute.
	ReconcileRule awsevents.Rule
	// Dashboard is the env's CloudWatch dashboard (its URL is the DashboardUrl output).
	Dashboard awscloudwatch.Dashboard
	// Outputs are the stack's outputs by name (contract.Output*, OutputDashboardURL and the
	// function names).
	Outputs map[string]awscdk.CfnOutput
}

// builder holds what every part of one stack is built from.
type builder struct {
	s            *Stack
	e            envs.Env
	assets       string
	removal      awscdk.RemovalPolicy
	logRetention awslogs.RetentionDays
	// deployment is the CodeDeploy config of every function (nil: all at once).
	deployment awscodedeploy.ILambdaDeploymentConfig
	// serviceAlarmList collects the alarms on the services' own metrics (for the dashboard).
	serviceAlarmList []awscloudwatch.IAlarm
}

// NewStack builds the payments stack of one environment.
func NewStack(scope constructs.Construct, id string, props *StackProps) *Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	b := &builder{
		s:            &Stack{Stack: stack, Outputs: map[string]awscdk.CfnOutput{}},
		e:            props.Env,
		assets:       props.AssetsDir,
		removal:      awscdk.RemovalPolicy_DESTROY,
		logRetention: retentionDays(props.Env.LogRetentionDays),
		deployment:   deploymentConfig(stack, props.Env),
	}
	if props.Env.RetainData {
		b.removal = awscdk.RemovalPolicy_RETAIN
	}
	b.table()
	b.s.LogKey = keys.New(stack, "LogKey", "payhook "+b.e.Name+": log groups", b.removal)
	keys.AllowLogs(b.s.LogKey)
	b.s.AlertsKey, b.s.AlertsTopic = newAlerts(stack, b.e, b.removal)
	b.signingSecret()
	b.accounting()
	b.ingest()
	b.lockSecrets(b.s.Ingress.Handler.Function.Role())
	b.notifyFailures()
	b.reconciler()
	b.serviceAlarms()
	b.tagsAndOutputs()
	b.dashboard()
	b.runbookLinks()
	SuppressAccepted(stack, props.Env)
	return b.s
}

// name is the physical name of one of the env's resources: payhook-<env>-<part>.
func (b *builder) name(part string) *string {
	return jsii.String(b.e.StageName() + "-" + part)
}
