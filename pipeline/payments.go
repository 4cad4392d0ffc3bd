// Package pipeline assembles payhook from its reusable constructs: the payments stack of
// one environment (from an envs.Env), the Stage that wraps it, and the CDK Pipelines stack
// that promotes the same cloud assembly through every deployable environment.
package pipeline

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/alarm"
	"github.com/payhook/payhook/internal/cfnrules"
)

// Reconciler sizing: not an env setting, it sweeps a short list once a minute.
const (
	reconcilerMemoryMB       = 128
	reconcilerTimeoutSeconds = 60
	// unaccountedMarginSeconds is added to visibility × maxReceiveCount (by then a message
	// is accounted or in the DLQ) before the reconciler sends an unaccounted record again.
	unaccountedMarginSeconds = 15 * 60
)

// UnaccountedAfterSeconds is how long after its send a transaction may stay unaccounted in
// env e before the reconciler sends it again: every receive of its message has timed out by
// then (visibility timeout × maxReceiveCount), plus a margin for a busy queue. The
// OldestUnaccountedAlarm fires at twice this age: the re-send did not help.
func UnaccountedAfterSeconds(e envs.Env) int {
	return e.Queue.VisibilityTimeoutSeconds*e.Queue.MaxReceiveCount + unaccountedMarginSeconds
}

// PaymentsStackProps configures NewPaymentsStack.
type PaymentsStackProps struct {
	awscdk.StackProps
	// Env is the environment to build (required).
	Env envs.Env
	// AssetsDir holds <service>/bootstrap for every service (required; `mage build` writes
	// build/).
	AssetsDir string
}

// PaymentsStack is one environment of the payment-notification system. Every building
// block is exposed.
type PaymentsStack struct {
	awscdk.Stack
	// Table holds transactions, daily totals and failures (services/internal/store).
	Table awsdynamodb.Table
	// AlertsKey encrypts the alerts topic; CloudWatch alarms may use it.
	AlertsKey awskms.Key
	// AlertsTopic receives every alarm and every dead-message alert.
	AlertsTopic awssns.Topic
	// SigningSecret holds the providers' webhook signing secrets.
	SigningSecret awssecretsmanager.Secret
	// Worker is the accounting queue, its DLQ and the accounting function.
	Worker *queuedworker.QueuedWorker
	// Ingress is the API, WAF and the ingest function.
	Ingress *webhookingress.WebhookIngress
	// NotifyFailures consumes the DLQ.
	NotifyFailures *alarmedfunction.AlarmedFunction
	// Reconciler sweeps the outbox.
	Reconciler *alarmedfunction.AlarmedFunction
	// ReconcileRule runs the reconciler every minute.
	ReconcileRule awsevents.Rule
	// Outputs are the stack's outputs by name (Output* constants).
	Outputs map[string]awscdk.CfnOutput
}

// NewPaymentsStack builds the payments stack of one environment.
func NewPaymentsStack(scope constructs.Construct, id string, props *PaymentsStackProps) *PaymentsStack {
	e := props.Env
	suffix := e.Name
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := &PaymentsStack{Stack: stack, Outputs: map[string]awscdk.CfnOutput{}}
	retain := e.RetainData
	removal := awscdk.RemovalPolicy_DESTROY
	if retain {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	name := func(part string) *string { return jsii.String(e.StageName() + "-" + part) }
	logRetention := retentionDays(e.LogRetentionDays)

	// Table: one record per (provider, transaction_id); see services/internal/store.
	s.Table = awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:    jsii.String(e.StageName()),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection: jsii.Bool(retain),
		RemovalPolicy:      removal,
	})
	s.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String("gsi1"),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	s.AlertsKey, s.AlertsTopic = newAlerts(stack, e, removal)

	// Signing secrets: generated placeholder; operators put the providers' secrets in it
	// (README: "Provider signing secrets"). Never in the template.
	s.SigningSecret = awssecretsmanager.NewSecret(stack, jsii.String("SigningSecrets"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String("payhook/" + suffix + "/signing-secrets"),
		Description:   jsii.String("payhook " + suffix + `: webhook signing secrets, JSON {"<provider>": ["whsec_..."]}`),
		RemovalPolicy: removal,
	})

	// fn builds a function's props; service is its directory under services/ (and in
	// AssetsDir), recorded as PAYHOOK_SERVICE so local mode can run the same service.
	fn := func(service, fnName string, f envs.Function, env map[string]*string) alarmedfunction.AlarmedFunctionProps {
		env["TABLE_NAME"] = s.Table.TableName()
		env["PAYHOOK_ENV"] = jsii.String(suffix)
		env["PAYHOOK_SERVICE"] = jsii.String(service)
		p := alarmedfunction.AlarmedFunctionProps{
			CodeDir:          jsii.String(filepath.Join(props.AssetsDir, service)),
			FunctionName:     name(fnName),
			MemorySize:       jsii.Number(float64(f.MemoryMB)),
			Timeout:          awscdk.Duration_Seconds(jsii.Number(float64(f.TimeoutSeconds))),
			Environment:      env,
			LogRetention:     logRetention,
			RemovalPolicy:    removal,
			AlarmTopic:       s.AlertsTopic,
			ErrorThreshold:   jsii.Number(float64(e.Alarms.ErrorThreshold)),
			ErrorRatePercent: jsii.Number(e.Alarms.ErrorRatePercent),
			DeploymentConfig: deploymentConfig(e),
		}
		if f.ReservedConcurrency != nil {
			p.ReservedConcurrency = jsii.Number(float64(*f.ReservedConcurrency))
		}
		return p
	}

	// Accounting: queue + DLQ + consumer.
	notifyTimeout := e.Functions.NotifyFailures.TimeoutSeconds
	s.Worker = queuedworker.NewQueuedWorker(stack, "Accounting", &queuedworker.QueuedWorkerProps{
		Consumer:                    fn("accounting", "accounting", e.Functions.Accounting, map[string]*string{}),
		QueueName:                   name("queue"),
		DeadLetterQueueName:         name("dlq"),
		MaxReceiveCount:             jsii.Number(float64(e.Queue.MaxReceiveCount)),
		VisibilityTimeout:           awscdk.Duration_Seconds(jsii.Number(float64(e.Queue.VisibilityTimeoutSeconds))),
		RetentionPeriod:             awscdk.Duration_Days(jsii.Number(float64(e.Queue.RetentionDays))),
		DeadLetterRetentionPeriod:   awscdk.Duration_Days(jsii.Number(float64(e.Queue.DLQRetentionDays))),
		DeadLetterVisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(6 * notifyTimeout))),
		BatchSize:                   jsii.Number(float64(e.Worker.BatchSize)),
		MaxBatchingWindow:           awscdk.Duration_Seconds(jsii.Number(float64(e.Worker.BatchingWindowSeconds))),
		AlarmTopic:                  s.AlertsTopic,
		OldestMessageAgeThreshold:   awscdk.Duration_Seconds(jsii.Number(float64(e.Alarms.OldestMessageAgeSeconds))),
		RemovalPolicy:               removal,
	})
	accounting := s.Worker.Consumer.Function
	s.Table.Grant(accounting, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:UpdateItem"))

	// Ingest: REST API + key + usage plan + WAF + handler.
	s.Ingress = webhookingress.NewWebhookIngress(stack, "Ingress", &webhookingress.WebhookIngressProps{
		Handler: fn("ingest", "ingest", e.Functions.Ingest, map[string]*string{
			"QUEUE_URL":          s.Worker.Queue.QueueUrl(),
			"SIGNING_SECRET_ARN": s.SigningSecret.SecretArn(),
			"PROVIDERS":          jsii.String(e.ProvidersSpec()),
			"MAX_BODY_BYTES":     jsii.String(fmt.Sprint(e.API.MaxBodyBytes)),
		}),
		ApiName:             name("api"),
		Description:         jsii.String("payhook " + suffix + ": payment notification webhooks"),
		Path:                jsii.String(e.API.Path),
		StageName:           jsii.String(e.API.StageName),
		ThrottleRateLimit:   jsii.Number(e.API.ThrottleRate),
		ThrottleBurstLimit:  jsii.Number(float64(e.API.ThrottleBurst)),
		QuotaPerDay:         jsii.Number(float64(e.API.DailyQuota)),
		WafRateLimit:        jsii.Number(float64(e.API.WAFRateLimit)),
		AccessLogRetention:  logRetention,
		RemovalPolicy:       removal,
		AlarmTopic:          s.AlertsTopic,
		Server5xxThreshold:  jsii.Number(float64(e.Alarms.API5xxThreshold)),
		LatencyP99Threshold: awscdk.Duration_Millis(jsii.Number(float64(e.Alarms.APIP99LatencyMs))),
		ApiKeyName:          name("key"),
		UsagePlanName:       name("plan"),
	})
	ingest := s.Ingress.Handler.Function
	s.Table.Grant(ingest, jsii.String("dynamodb:PutItem"), jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:UpdateItem"))
	s.Worker.Queue.GrantSendMessages(ingest)
	s.SigningSecret.GrantRead(ingest, nil)

	// Notify-failures: consumes the DLQ, records, alerts.
	notifyProps := fn("notifyfailures", "notify-failures", e.Functions.NotifyFailures, map[string]*string{"ALERT_TOPIC_ARN": s.AlertsTopic.TopicArn()})
	s.NotifyFailures = alarmedfunction.NewAlarmedFunction(stack, "NotifyFailures", &notifyProps)
	s.NotifyFailures.Alias.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Worker.DeadLetterQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          queuedworker.MaxConcurrencyFor(notifyProps.ReservedConcurrency),
	}))
	s.Table.Grant(s.NotifyFailures.Function, jsii.String("dynamodb:UpdateItem"), jsii.String("dynamodb:PutItem"))
	s.AlertsTopic.GrantPublish(s.NotifyFailures.Function)

	// Reconciler: the outbox sweep, every minute.
	s.Reconciler = alarmedfunction.NewAlarmedFunction(stack, "Reconciler", ptr(fn("reconciler", "reconciler",
		envs.Function{MemoryMB: reconcilerMemoryMB, TimeoutSeconds: reconcilerTimeoutSeconds},
		map[string]*string{
			"QUEUE_URL":         s.Worker.Queue.QueueUrl(),
			"UNACCOUNTED_AFTER": jsii.String(fmt.Sprintf("%ds", UnaccountedAfterSeconds(e))),
		})))
	s.ReconcileRule = awsevents.NewRule(stack, jsii.String("ReconcileSchedule"), &awsevents.RuleProps{
		Description: jsii.String("payhook " + suffix + ": send notifications stranded on the outbox"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Reconciler.Alias, nil)},
	})
	s.Table.Grant(s.Reconciler.Function, jsii.String("dynamodb:Query"), jsii.String("dynamodb:UpdateItem"))
	s.Worker.Queue.GrantSendMessages(s.Reconciler.Function)

	// Alarms on the services' own metrics (EMF, namespace payhook): failures that Lambda
	// does not count as errors, because the functions answer them (ingest's 500/503,
	// accounting's batch item failures, dead messages). They page, and where a deployment
	// group shifts traffic they roll a bad version back.
	serviceMetric := func(service, metric, statistic string, extra map[string]*string) awscloudwatch.Metric {
		dims := map[string]*string{"Service": jsii.String(service), "Env": jsii.String(suffix)}
		for k, v := range extra {
			dims[k] = v
		}
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(MetricsNamespace), MetricName: jsii.String(metric), DimensionsMap: &dims,
			Statistic: jsii.String(statistic), Period: awscdk.Duration_Minutes(jsii.Number(5)),
		})
	}
	serviceAlarm := func(id, service, metric string, extra map[string]*string, threshold float64, desc string) awscloudwatch.Alarm {
		return alarm.New(stack, id, serviceMetric(service, metric, "Sum", extra), threshold, "payhook "+suffix+": "+desc, s.AlertsTopic)
	}
	// A transaction sent but never accounted: the reconciler re-sends it at
	// UnaccountedAfterSeconds; still waiting at twice that age means the re-send did not help.
	oldestLimit := 2 * UnaccountedAfterSeconds(e)
	alarm.New(stack, "OldestUnaccountedAlarm", serviceMetric("reconciler", "OldestUnaccountedAgeSeconds", "Maximum", nil),
		float64(oldestLimit), fmt.Sprintf("payhook %s: a notification has waited %d s or more for accounting (re-sent at %d s)",
			suffix, oldestLimit, UnaccountedAfterSeconds(e)), s.AlertsTopic)
	unavailable := serviceAlarm("IngestUnavailableAlarm", "ingest", "Rejected", map[string]*string{"Reason": jsii.String("unavailable")},
		float64(e.Alarms.API5xxThreshold), "ingest answered 503 (a dependency failed)")
	internal := serviceAlarm("IngestInternalErrorAlarm", "ingest", "Rejected", map[string]*string{"Reason": jsii.String("internal")},
		1, "ingest answered 500 (a bug)")
	accountingFailed := serviceAlarm("AccountingFailedAlarm", "accounting", "AccountingFailed", nil,
		float64(e.Alarms.ErrorThreshold), "accounting reported batch item failures")
	serviceAlarm("DeadMessagesAlarm", "notify-failures", "Failed", nil, 1, "messages died in the DLQ and were recorded as failed")
	if g := s.Ingress.Handler.DeploymentGroup; g != nil {
		g.AddAlarm(unavailable)
		g.AddAlarm(internal)
		g.AddAlarm(s.Ingress.Server5xxAlarm)
	}
	if g := s.Worker.Consumer.DeploymentGroup; g != nil {
		g.AddAlarm(accountingFailed)
	}

	// Tags and outputs.
	awscdk.Tags_Of(stack).Add(jsii.String(EnvTag), jsii.String(suffix), nil)
	keys := make([]string, 0, len(e.Tags))
	for k := range e.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(e.Tags[k]), nil)
	}
	out := func(id string, v *string, desc string) {
		s.Outputs[id] = awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out(OutputAPIURL, s.Ingress.URL(), "Webhook endpoint (POST)")
	out(OutputAPIKeyID, s.Ingress.ApiKey.KeyId(), "API key id (value: aws apigateway get-api-key --include-value)")
	out(OutputTableName, s.Table.TableName(), "DynamoDB table")
	out(OutputQueueURL, s.Worker.Queue.QueueUrl(), "Accounting queue")
	out(OutputDLQURL, s.Worker.DeadLetterQueue.QueueUrl(), "Dead-letter queue")
	out(OutputTopicARN, s.AlertsTopic.TopicArn(), "Alerts topic")
	out(OutputSecretARN, s.SigningSecret.SecretArn(), "Provider signing secrets")
	out("IngestFunctionName", ingest.FunctionName(), "Ingest function")
	out("AccountingFunctionName", accounting.FunctionName(), "Accounting function")
	out("NotifyFailuresFunctionName", s.NotifyFailures.Function.FunctionName(), "Notify-failures function")
	out("ReconcilerFunctionName", s.Reconciler.Function.FunctionName(), "Outbox reconciler function")
	SuppressAcceptedNagFindings(stack)
	return s
}

// EnvTag is the tag every resource of a payments stack carries, valued with the env's name;
// the smoke step's permission to read the API key is conditioned on it.
const EnvTag = "payhook:env"

// MetricsNamespace is the CloudWatch namespace of the services' EMF metrics.
const MetricsNamespace = "payhook"

// Output names of the payments stack, read by the smoke test and the pipeline's post-steps.
const (
	OutputAPIURL    = "ApiUrl"
	OutputAPIKeyID  = "ApiKeyId"
	OutputTableName = "TableName"
	OutputQueueURL  = "QueueUrl"
	OutputDLQURL    = "DlqUrl"
	OutputTopicARN  = "AlertTopicArn"
	OutputSecretARN = "SigningSecretArn"
)

func ptr[T any](v T) *T { return &v }

// newAlerts creates the alerts topic and the customer-managed key that encrypts it. Both
// policies let this account's CloudWatch alarms deliver: the key's (kms:GenerateDataKey*,
// kms:Decrypt) and the topic's (sns:Publish). The topic policy replaces SNS's default policy,
// so without its Allow no alarm could publish; the TLS-only Deny (EnforceSSL) stays.
func newAlerts(stack awscdk.Stack, e envs.Env, removal awscdk.RemovalPolicy) (awskms.Key, awssns.Topic) {
	cloudwatch := []awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(cfnrules.CloudWatchPrincipal), nil)}
	fromThisAccount := map[string]any{"aws:SourceAccount": stack.Account()}
	key := awskms.NewKey(stack, jsii.String("AlertsKey"), &awskms.KeyProps{
		Description:       jsii.String("payhook " + e.Name + " alerts topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &cloudwatch,
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": fromThisAccount},
	}), jsii.Bool(false))
	topic := awssns.NewTopic(stack, jsii.String("Alerts"), &awssns.TopicProps{
		TopicName:   jsii.String(e.StageName() + "-alerts"),
		DisplayName: jsii.String("payhook " + e.Name + " alerts"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	alarms := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &cloudwatch,
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{"StringEquals": fromThisAccount, "ArnLike": map[string]any{"aws:SourceArn": alarms}},
	}))
	for _, addr := range e.Alarms.Emails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
	return key, topic
}

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
		panic(fmt.Sprintf("pipeline: env %s: no CodeDeploy configuration for %q", e.Name, e.Deployment.ConfigName()))
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
	panic(fmt.Sprintf("pipeline: log retention of %d days is not a CloudWatch Logs value (envs validation should have refused it)", days))
}
