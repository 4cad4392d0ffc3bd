// Package ordersapp is an example of another team using payhook's constructs in its own CDK
// Go app: a shipping team receives "order shipped" webhooks from a carrier, queues them for
// a worker, and runs a nightly report, with payhook's secure defaults and alarms.
//
// Nothing here imports payhook's envs or services: only the three constructs.
package ordersapp

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
)

// Stack is the shipping team's stack, with its parts exposed.
type Stack struct {
	awscdk.Stack
	Alerts  awssns.Topic
	Worker  *queuedworker.QueuedWorker
	Ingress *webhookingress.WebhookIngress
	Report  *alarmedfunction.AlarmedFunction
}

// NewStack builds the example. codeDir holds receiver/, shipper/ and report/, each with a
// prebuilt `bootstrap` (the team builds its own Go functions).
func NewStack(scope constructs.Construct, id string, codeDir string) *Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	s := &Stack{Stack: stack}
	s.Alerts = awssns.NewTopic(stack, jsii.String("Alerts"), nil)

	// A worker with defaults: SQS-managed encryption, SSL-only policies, DLQ after 3
	// receives, visibility 6 × the consumer timeout, alarms on DLQ depth and message age.
	s.Worker = queuedworker.NewQueuedWorker(stack, "Shipments", &queuedworker.QueuedWorkerProps{
		Consumer: alarmedfunction.AlarmedFunctionProps{
			CodeDir: jsii.String(filepath.Join(codeDir, "shipper")),
			Timeout: awscdk.Duration_Seconds(jsii.Number(20)),
		},
		BatchSize:  jsii.Number(5),
		AlarmTopic: s.Alerts,
	})

	// The carrier posts to /carrier with an API key; WAF, usage plan, logs and alarms come
	// with the construct.
	s.Ingress = webhookingress.NewWebhookIngress(stack, "Carrier", &webhookingress.WebhookIngressProps{
		Handler: alarmedfunction.AlarmedFunctionProps{
			CodeDir:     jsii.String(filepath.Join(codeDir, "receiver")),
			Environment: map[string]*string{"QUEUE_URL": s.Worker.Queue.QueueUrl()},
		},
		Path:              jsii.String("carrier"),
		ThrottleRateLimit: jsii.Number(20),
		AlarmTopic:        s.Alerts,
	})
	s.Worker.Queue.GrantSendMessages(s.Ingress.Handler.Function)

	// A plain alarmed function on a schedule.
	s.Report = alarmedfunction.NewAlarmedFunction(stack, "NightlyReport", &alarmedfunction.AlarmedFunctionProps{
		CodeDir:    jsii.String(filepath.Join(codeDir, "report")),
		MemorySize: jsii.Number(512),
		Timeout:    awscdk.Duration_Minutes(jsii.Number(5)),
		AlarmTopic: s.Alerts,
	})
	awsevents.NewRule(stack, jsii.String("Nightly"), &awsevents.RuleProps{
		Schedule: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("2"), Minute: jsii.String("0")}),
		Targets:  &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Report.Alias, nil)},
	})
	return s
}
