package payments

import (
	"fmt"
	"maps"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// Reconciler sizing: not an env setting, it sweeps a short list once a minute.
const (
	reconcilerMemoryMB       = 128
	reconcilerTimeoutSeconds = 60
	// accountingMarginSeconds is added to visibility × maxReceiveCount for a busy queue.
	accountingMarginSeconds = 15 * 60
)

// AccountingDeadlineSeconds is how long after its send a transaction may wait for
// accounting in env e before OldestUnaccountedAlarm pages: every receive of its message has
// timed out by then (visibility timeout × maxReceiveCount), plus a margin. Past it the
// message is backed up (accounting throttled or disabled) or lost.
func AccountingDeadlineSeconds(e envs.Env) int {
	return e.Queue.VisibilityTimeoutSeconds*e.Queue.MaxReceiveCount + accountingMarginSeconds
}

// UnaccountedAfterSeconds is how long after its last send a transaction may stay
// unaccounted in env e before the reconciler sends it again: the queue's retention period
// plus AccountingDeadlineSeconds. By then SQS has deleted the message if it was still
// waiting, so the message is gone for certain (expired, purged, a replaced queue) and a
// re-send recovers it without ever adding to a backlog that is only slow.
func UnaccountedAfterSeconds(e envs.Env) int {
	return e.Queue.RetentionDays*24*3600 + AccountingDeadlineSeconds(e)
}

// OutboxGraceSeconds is how long a stored transaction may wait unaccounted on the outbox in
// env e before the reconciler sends it (again): a healthy pipeline accounts it within one
// batching window and one accounting invocation, and 30 s more leave room for the ingest
// request still sending it. Ingest leaves every record on the outbox until accounting takes
// it off, so this also bounds how late a record whose send failed (or whose ingest process
// died before the send) is recovered. A record the reconciler sends moves to the in-flight
// list, which it sends again only after UnaccountedAfterSeconds: a backlog is never
// multiplied.
func OutboxGraceSeconds(e envs.Env) int {
	return e.Worker.BatchingWindowSeconds + e.Functions.Accounting.TimeoutSeconds + 30
}

// functionProps are a service's function props; service is its directory under services/
// (and in the assets directory), recorded as PAYHOOK_SERVICE so local mode can run the same
// service. The function's environment is own, plus the variables every service reads; the
// caller's map is left as it was.
func (b *builder) functionProps(service, fnName string, f envs.Function, own map[string]*string) alarmedfunction.AlarmedFunctionProps {
	e := b.e
	env := make(map[string]*string, len(own)+3)
	maps.Copy(env, own)
	env[contract.EnvTableName] = b.s.Table.TableName()
	env[contract.EnvPayhookEnv] = jsii.String(e.Name)
	env[contract.EnvPayhookService] = jsii.String(service)
	p := alarmedfunction.AlarmedFunctionProps{
		CodeDir:          jsii.String(filepath.Join(b.assets, service)),
		FunctionName:     b.name(fnName),
		MemorySize:       jsii.Number(float64(f.MemoryMB)),
		Timeout:          awscdk.Duration_Seconds(jsii.Number(float64(f.TimeoutSeconds))),
		Environment:      env,
		LogRetention:     b.logRetention,
		LogEncryptionKey: b.s.LogKey,
		RemovalPolicy:    b.removal,
		AlarmTopic:       b.s.AlertsTopic,
		ErrorThreshold:   jsii.Number(float64(e.Alarms.ErrorThreshold)),
		ErrorRatePercent: jsii.Number(e.Alarms.ErrorRatePercent),
		DeploymentConfig: b.deployment,
		Tracing:          b.tracing(),
	}
	if f.ReservedConcurrency != nil {
		p.ReservedConcurrency = jsii.Number(float64(*f.ReservedConcurrency))
	}
	return p
}

// tracing is every function's X-Ray mode: each traces only what the API's sampling rule
// sampled (so a sampled webhook is one trace, and nothing else is traced), or nothing.
func (b *builder) tracing() awslambda.Tracing {
	if b.e.Tracing.Off() {
		return awslambda.Tracing_DISABLED
	}
	return awslambda.Tracing_PASS_THROUGH
}

// traceSampling is the API stage's X-Ray sampling rule from the env's tracing, named
// payhook-<env>-traces when that fits X-Ray's 32 characters.
func (b *builder) traceSampling() *webhookingress.TraceSampling {
	t := b.e.Tracing
	s := &webhookingress.TraceSampling{ReservoirPerSecond: float64(t.ReservoirPerSecond), FixedRate: t.SamplePercent / 100}
	if name := b.name("traces"); len(*name) <= 32 {
		s.RuleName = name
	}
	return s
}

// accounting creates the queue, its DLQ and the accounting consumer.
func (b *builder) accounting() {
	e := b.e
	b.s.Worker = queuedworker.NewQueuedWorker(b.s.Stack, "Accounting", &queuedworker.QueuedWorkerProps{
		Consumer:                  b.functionProps("accounting", "accounting", e.Functions.Accounting, map[string]*string{}),
		QueueName:                 b.name("queue"),
		DeadLetterQueueName:       b.name("dlq"),
		MaxReceiveCount:           jsii.Number(float64(e.Queue.MaxReceiveCount)),
		VisibilityTimeout:         awscdk.Duration_Seconds(jsii.Number(float64(e.Queue.VisibilityTimeoutSeconds))),
		RetentionPeriod:           awscdk.Duration_Days(jsii.Number(float64(e.Queue.RetentionDays))),
		DeadLetterRetentionPeriod: awscdk.Duration_Days(jsii.Number(float64(e.Queue.DLQRetentionDays))),
		DeadLetterVisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(
			float64(contract.SQSVisibilityFactor * e.Functions.NotifyFailures.TimeoutSeconds))),
		BatchSize:                 jsii.Number(float64(e.Worker.BatchSize)),
		MaxBatchingWindow:         awscdk.Duration_Seconds(jsii.Number(float64(e.Worker.BatchingWindowSeconds))),
		AlarmTopic:                b.s.AlertsTopic,
		OldestMessageAgeThreshold: awscdk.Duration_Seconds(jsii.Number(float64(e.Alarms.OldestMessageAgeSeconds))),
		RemovalPolicy:             b.removal,
	})
	b.grantItems(b.s.Worker.Consumer.Function, []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, contract.KeyTransaction, contract.KeyTotal)
}

// ingest creates the REST API, key, usage plan, WAF and the ingest handler, with its grants.
func (b *builder) ingest() {
	e := b.e
	b.s.Ingress = webhookingress.NewWebhookIngress(b.s.Stack, "Ingress", &webhookingress.WebhookIngressProps{
		Handler: b.functionProps("ingest", "ingest", e.Functions.Ingest, map[string]*string{
			contract.EnvQueueURL:              b.s.Worker.Queue.QueueUrl(),
			contract.EnvSigningSecretARN:      b.s.SigningSecret.SecretArn(),
			contract.EnvSmokeSigningSecretARN: b.s.SmokeSigningSecret.SecretArn(),
			contract.EnvProviders:             jsii.String(e.IngestProvidersSpec()),
			contract.EnvMaxBodyBytes:          jsii.String(fmt.Sprint(e.API.MaxBodyBytes)),
			contract.EnvPayloadFormats:        jsii.String(e.PayloadFormatsSpec()),
			contract.EnvLive:                  jsii.String(fmt.Sprint(e.Live)),
		}),
		ApiName:             b.name("api"),
		Description:         jsii.String("payhook " + e.Name + ": payment notification webhooks"),
		Path:                jsii.String(e.API.Path),
		StageName:           jsii.String(e.API.StageName),
		ThrottleRateLimit:   jsii.Number(e.API.ThrottleRate),
		ThrottleBurstLimit:  jsii.Number(float64(e.API.ThrottleBurst)),
		QuotaPerDay:         jsii.Number(float64(e.API.DailyQuota)),
		WafRateLimit:        jsii.Number(float64(e.API.WAFRateLimit)),
		AccessLogRetention:  b.logRetention,
		LogEncryptionKey:    b.s.LogKey,
		RemovalPolicy:       b.removal,
		AlarmTopic:          b.s.AlertsTopic,
		Server5xxThreshold:  jsii.Number(float64(e.Alarms.API5xxThreshold)),
		LatencyP99Threshold: awscdk.Duration_Millis(jsii.Number(float64(e.Alarms.APIP99LatencyMs))),
		Routes:              b.routes(),
		ApiKeys:             b.apiKeys(),
		MaxBodyBytes:        jsii.Number(float64(e.API.MaxBodyBytes)),
		WafBlockedThreshold: jsii.Number(float64(e.Alarms.WAFBlockedThreshold)),
		TraceSampling:       b.traceSampling(),
	})
	fn := b.s.Ingress.Handler.Function
	b.bindKeys(fn)
	b.grantItems(fn, []string{"dynamodb:PutItem"}, contract.KeyTransaction)
	// Exactly what ingest calls: CDK's GrantSendMessages would add sqs:GetQueueAttributes and
	// sqs:GetQueueUrl, GrantRead secretsmanager:DescribeSecret, none of which it calls.
	b.s.Worker.Queue.Grant(fn, jsii.String("sqs:SendMessage"))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(*b.s.SigningSecret.SecretArn(), *b.s.SmokeSigningSecret.SecretArn()),
	}))
}

// notifyFailures creates the DLQ consumer that records dead messages and alerts.
func (b *builder) notifyFailures() {
	props := b.functionProps("notifyfailures", "notify-failures", b.e.Functions.NotifyFailures,
		map[string]*string{contract.EnvAlertTopicARN: b.s.AlertsTopic.TopicArn()})
	b.s.NotifyFailures = alarmedfunction.NewAlarmedFunction(b.s.Stack, "NotifyFailures", &props)
	queuedworker.Consume(b.s.NotifyFailures.Alias, b.s.NotifyFailures.Function, b.s.Worker.DeadLetterQueue, &queuedworker.ConsumeProps{
		BatchSize:      jsii.Number(10),
		MaxConcurrency: queuedworker.MaxConcurrencyFor(props.ReservedConcurrency),
	})
	b.grantItems(b.s.NotifyFailures.Function, []string{"dynamodb:UpdateItem", "dynamodb:PutItem"}, contract.KeyTransaction, contract.KeyFailure)
	b.s.AlertsTopic.GrantPublish(b.s.NotifyFailures.Function)
}

// reconciler creates the sweep of the outbox and the in-flight list, every minute.
func (b *builder) reconciler() {
	props := b.functionProps("reconciler", "reconciler",
		envs.Function{MemoryMB: reconcilerMemoryMB, TimeoutSeconds: reconcilerTimeoutSeconds},
		map[string]*string{
			contract.EnvQueueURL:         b.s.Worker.Queue.QueueUrl(),
			contract.EnvUnaccountedAfter: jsii.String(fmt.Sprintf("%ds", UnaccountedAfterSeconds(b.e))),
			contract.EnvOutboxGrace:      jsii.String(fmt.Sprintf("%ds", OutboxGraceSeconds(b.e))),
		})
	b.s.Reconciler = alarmedfunction.NewAlarmedFunction(b.s.Stack, "Reconciler", &props)
	b.s.ReconcileRule = awsevents.NewRule(b.s.Stack, jsii.String("ReconcileSchedule"), &awsevents.RuleProps{
		Description: jsii.String("payhook " + b.e.Name + ": send notifications stranded on the outbox"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(b.s.Reconciler.Alias, nil)},
	})
	// It reads the work lists on gsi1 only, and updates transaction records.
	b.s.Reconciler.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("dynamodb:Query"), Resources: jsii.Strings(*b.s.Table.TableArn() + "/index/" + gsi1)}))
	b.grantItems(b.s.Reconciler.Function, []string{"dynamodb:UpdateItem"}, contract.KeyTransaction)
	b.s.Worker.Queue.Grant(b.s.Reconciler.Function, jsii.String("sqs:SendMessage"))
}

// grantItems lets fn do actions on the items of the table whose partition key starts with
// one of prefixes (contract.Key*), and on nothing else of the table: a function that is
// compromised cannot rewrite another function's items (ingest, the daily totals). The request
// must name its keys: ForAllValues alone would hold for one that names none.
func (b *builder) grantItems(fn awsiam.IGrantable, actions []string, prefixes ...string) {
	var like []string
	for _, p := range prefixes {
		like = append(like, p+"*")
	}
	fn.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{b.s.Table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": like},
			"Null":                    map[string]any{"dynamodb:LeadingKeys": "false"},
		},
	}))
}
