package queuedworker

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarm"
	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/internal/check"
)

// QueuedWorker is an encrypted, SSL-only SQS queue with a dead-letter queue,
// consumed by an AlarmedFunction through its "live" alias with partial
// batch responses (ReportBatchItemFailures), plus alarms on dead letters and
// on the main queue's backlog age.
type QueuedWorker struct {
	constructs.Construct

	// Queue is the main queue (ExistingQueue when given); its redrive policy sends a
	// message to DeadLetterQueue after MaxReceiveCount receives.
	Queue awssqs.IQueue
	// DeadLetterQueue holds the messages the consumer failed to process
	// (ExistingDeadLetterQueue when given).
	DeadLetterQueue awssqs.IQueue
	// Consumer is the function that processes Queue, invoked through
	// Consumer.Alias.
	Consumer *alarmedfunction.AlarmedFunction
	// EventSourceMapping is the SQS event source mapping on Consumer.Alias (see Consume).
	EventSourceMapping awslambda.EventSourceMapping
	// DeadLetterDepthAlarm fires when DeadLetterQueue holds
	// DeadLetterDepthThreshold or more visible messages.
	DeadLetterDepthAlarm awscloudwatch.Alarm
	// OldestMessageAgeAlarm fires when Queue's oldest message is
	// OldestMessageAgeThreshold old or older.
	OldestMessageAgeAlarm awscloudwatch.Alarm
	// Alarms lists every alarm of the worker: the two queue alarms above,
	// then Consumer.Alarms.
	Alarms []awscloudwatch.IAlarm
}

// NewQueuedWorker creates a QueuedWorker. It validates props first (the
// consumer's included) and panics, before creating anything, with an error
// listing every problem (see QueuedWorkerProps.Validate).
func NewQueuedWorker(scope constructs.Construct, id string, props *QueuedWorkerProps) *QueuedWorker {
	if err := props.Validate(); err != nil {
		panic(fmt.Errorf("queuedworker %q: invalid props:\n%w", id, err))
	}
	p := props.WithDefaults()

	c := constructs.NewConstruct(scope, jsii.String(id))
	w := &QueuedWorker{Construct: c}

	encryption := awssqs.QueueEncryption_SQS_MANAGED
	if p.EncryptionKey != nil {
		encryption = awssqs.QueueEncryption_KMS
	}
	w.DeadLetterQueue = p.ExistingDeadLetterQueue
	if w.DeadLetterQueue == nil {
		dlq := awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
			QueueName:           p.DeadLetterQueueName,
			RetentionPeriod:     p.DeadLetterRetentionPeriod,
			VisibilityTimeout:   p.DeadLetterVisibilityTimeout,
			Encryption:          encryption,
			EncryptionMasterKey: p.EncryptionKey,
			EnforceSSL:          jsii.Bool(true),
			RemovalPolicy:       p.RemovalPolicy,
		})
		allowRedriveFrom(dlq, p.QueueName)
		w.DeadLetterQueue = dlq
	}
	w.Queue = p.ExistingQueue
	if w.Queue == nil {
		w.Queue = awssqs.NewQueue(c, jsii.String("Queue"), &awssqs.QueueProps{
			QueueName:           p.QueueName,
			RetentionPeriod:     p.RetentionPeriod,
			VisibilityTimeout:   p.VisibilityTimeout,
			Encryption:          encryption,
			EncryptionMasterKey: p.EncryptionKey,
			EnforceSSL:          jsii.Bool(true),
			RemovalPolicy:       p.RemovalPolicy,
			DeadLetterQueue: &awssqs.DeadLetterQueue{
				MaxReceiveCount: p.MaxReceiveCount,
				Queue:           w.DeadLetterQueue,
			},
		})
	}

	w.Consumer = alarmedfunction.NewAlarmedFunction(c, "Consumer", &p.Consumer)
	w.EventSourceMapping = Consume(w.Consumer.Alias, w.Consumer.Function, w.Queue, &ConsumeProps{
		BatchSize: p.BatchSize, MaxBatchingWindow: p.MaxBatchingWindow, MaxConcurrency: p.MaxConcurrency})

	path := *c.Node().Path()
	maxOverPeriod := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: queueAlarmPeriod()}
	w.DeadLetterDepthAlarm = alarm.New(c, "DeadLetterDepthAlarm",
		w.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(maxOverPeriod), *p.DeadLetterDepthThreshold,
		fmt.Sprintf("%s: %g or more messages in the dead-letter queue", path, *p.DeadLetterDepthThreshold), p.AlarmTopic)
	w.OldestMessageAgeAlarm = alarm.New(c, "OldestMessageAgeAlarm",
		w.Queue.MetricApproximateAgeOfOldestMessage(maxOverPeriod), check.Seconds(p.OldestMessageAgeThreshold),
		fmt.Sprintf("%s: oldest message in the queue is %s old or older", path, check.Human(p.OldestMessageAgeThreshold)), p.AlarmTopic)

	w.Alarms = append([]awscloudwatch.IAlarm{w.DeadLetterDepthAlarm, w.OldestMessageAgeAlarm}, w.Consumer.Alarms...)
	return w
}

// allowRedriveFrom declares the dead-letter queue as one (AWS Control Tower's CT.SQS.PR.1):
// only the named main queue may send its dead letters there. Its ARN is written out from the
// name, since a reference to the queue, which refers to this one, would be a dependency cycle;
// a queue without a given name gets CloudFormation's, so any queue of the account may.
func allowRedriveFrom(dlq awssqs.Queue, queueName *string) {
	policy := map[string]any{"redrivePermission": "allowAll"}
	if queueName != nil && !*awscdk.Token_IsUnresolved(queueName) {
		arn := awscdk.Stack_Of(dlq).FormatArn(&awscdk.ArnComponents{Service: jsii.String("sqs"), Resource: queueName})
		policy = map[string]any{"redrivePermission": "byQueue", "sourceQueueArns": []*string{arn}}
	}
	dlq.Node().DefaultChild().(awssqs.CfnQueue).SetRedriveAllowPolicy(policy)
}
