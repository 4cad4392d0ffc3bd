package queuedworker_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	tu "github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/constructs/queuedworker"
)

// app is the one App (and jsii runtime) of this test binary; each test
// builds its own stack on it.
var app = awscdk.NewApp(nil)

func synth(t *testing.T, props *queuedworker.QueuedWorkerProps, extra func(awscdk.Stack, *queuedworker.QueuedWorkerProps)) (*queuedworker.QueuedWorker, tu.Template) {
	t.Helper()
	stack := tu.NewStack(app, t.Name())
	if props.Consumer.CodeDir == nil {
		props.Consumer.CodeDir = tu.CodeDir(t)
	}
	if extra != nil {
		extra(stack, props)
	}
	var w *queuedworker.QueuedWorker
	if msg := tu.Recover(func() { w = queuedworker.NewQueuedWorker(stack, "Worker", props) }); msg != "" {
		t.Fatalf("NewQueuedWorker panicked: %s", msg)
	}
	return w, tu.Synth(t, stack)
}

// queues returns the logical ids of the main queue and the dead-letter
// queue.
func queues(t *testing.T, tpl tu.Template) (mainID, dlqID string) {
	t.Helper()
	mainID, _ = tpl.Where(t, "AWS::SQS::Queue", func(p map[string]any) bool { return p["RedrivePolicy"] != nil })
	dlqID, _ = tpl.Where(t, "AWS::SQS::Queue", func(p map[string]any) bool { return p["RedrivePolicy"] == nil })
	return mainID, dlqID
}

// sslOnly reports whether the queue policy denies every sqs action without
// TLS on queue queueID.
func sslOnly(policy map[string]any, queueID string) bool {
	if !contains(tu.Get(policy, "Queues"), tu.Ref(queueID)) {
		return false
	}
	for _, s := range tu.Get(policy, "PolicyDocument", "Statement").([]any) {
		if tu.Get(s, "Effect") == "Deny" && tu.Get(s, "Action") == "sqs:*" &&
			tu.Get(s, "Condition", "Bool", "aws:SecureTransport") == "false" {
			return true
		}
	}
	return false
}

func contains(list any, v any) bool {
	items, _ := list.([]any)
	want, _ := json.Marshal(v)
	for _, it := range items {
		got, _ := json.Marshal(it)
		if string(got) == string(want) {
			return true
		}
	}
	return false
}

// policyActions returns every action the template's IAM policies allow.
func policyActions(tpl tu.Template) string {
	b, _ := json.Marshal(tpl.Resources("AWS::IAM::Policy"))
	return string(b)
}

func TestDefaults(t *testing.T) {
	// GIVEN only the consumer's code
	// WHEN the worker is synthesized
	w, tpl := synth(t, &queuedworker.QueuedWorkerProps{}, nil)

	// THEN there is a main queue and a dead-letter queue, both SSE-SQS encrypted
	require.Equal(t, 2, tpl.Count("AWS::SQS::Queue"))
	mainID, dlqID := queues(t, tpl)
	q := tpl.Resources("AWS::SQS::Queue")
	for _, id := range []string{mainID, dlqID} {
		assert.Equal(t, true, q[id]["SqsManagedSseEnabled"], id)
		assert.NotContains(t, q[id], "KmsMasterKeyId", id)
		assert.Equal(t, "Delete", tu.Get(tpl.Resource(id), "DeletionPolicy"), id)
	}
	// AND the main queue redrives to the DLQ after 3 receives, with 6 × the 10 s consumer timeout
	assert.Equal(t, map[string]any{"deadLetterTargetArn": tu.GetAtt(dlqID, "Arn"), "maxReceiveCount": float64(3)}, q[mainID]["RedrivePolicy"])
	assert.EqualValues(t, 60, q[mainID]["VisibilityTimeout"])
	assert.EqualValues(t, 4*24*3600, q[mainID]["MessageRetentionPeriod"])
	assert.EqualValues(t, 14*24*3600, q[dlqID]["MessageRetentionPeriod"])
	assert.EqualValues(t, 300, q[dlqID]["VisibilityTimeout"])

	// AND both queues accept only TLS
	policies := tpl.Resources("AWS::SQS::QueuePolicy")
	for _, id := range []string{mainID, dlqID} {
		found := false
		for _, p := range policies {
			found = found || sslOnly(p, id)
		}
		assert.True(t, found, "SSL-only policy on %s", id)
	}

	// AND the consumer's alias consumes the main queue with partial batch responses
	aliasID, _ := tpl.One(t, "AWS::Lambda::Alias")
	_, esm := tpl.One(t, "AWS::Lambda::EventSourceMapping")
	assert.Equal(t, []any{"ReportBatchItemFailures"}, esm["FunctionResponseTypes"])
	assert.EqualValues(t, 10, esm["BatchSize"])
	assert.EqualValues(t, 0, esm["MaximumBatchingWindowInSeconds"])
	assert.Equal(t, tu.GetAtt(mainID, "Arn"), esm["EventSourceArn"])
	// (the alias's qualified name, "<function>:live", derived from the alias ARN)
	fnName, _ := json.Marshal(esm["FunctionName"])
	assert.Contains(t, string(fnName), `{"Ref":"`+aliasID+`"}`, "the event source targets the alias, not $LATEST")
	assert.Contains(t, string(fnName), `":live"`)
	assert.NotContains(t, esm, "ScalingConfig")
	assert.Contains(t, policyActions(tpl), "sqs:ReceiveMessage")
	assert.Contains(t, policyActions(tpl), "sqs:DeleteMessage")

	// AND the DLQ depth and backlog age alarms watch the right queues
	_, depth := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool {
		return p["MetricName"] == "ApproximateNumberOfMessagesVisible"
	})
	assert.Equal(t, "AWS/SQS", depth["Namespace"])
	assert.Equal(t, "Maximum", depth["Statistic"])
	assert.EqualValues(t, 60, depth["Period"])
	assert.EqualValues(t, 1, depth["Threshold"])
	assert.Equal(t, "GreaterThanOrEqualToThreshold", depth["ComparisonOperator"])
	assert.Equal(t, "notBreaching", depth["TreatMissingData"])
	assert.Equal(t, tu.GetAtt(dlqID, "QueueName"), tu.Get(depth, "Dimensions", 0, "Value"))

	_, age := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool {
		return p["MetricName"] == "ApproximateAgeOfOldestMessage"
	})
	assert.Equal(t, "Maximum", age["Statistic"])
	assert.EqualValues(t, 300, age["Threshold"])
	assert.Equal(t, "notBreaching", age["TreatMissingData"])
	assert.Equal(t, tu.GetAtt(mainID, "QueueName"), tu.Get(age, "Dimensions", 0, "Value"))

	// AND Alarms lists the queue alarms and the consumer's four
	assert.Equal(t, 6, tpl.Count("AWS::CloudWatch::Alarm"))
	assert.Len(t, w.Alarms, 6)
	assert.Len(t, w.Consumer.Alarms, 4)
	assert.NotNil(t, w.EventSourceMapping)
}

func TestEventSourceCappedAtReservedConcurrency(t *testing.T) {
	for reserved, want := range map[float64]any{7: 7.0, 1: nil} {
		t.Run(fmt.Sprint(reserved), func(t *testing.T) {
			// GIVEN a consumer with reserved concurrency and no MaxConcurrency
			props := &queuedworker.QueuedWorkerProps{Consumer: alarmedfunction.AlarmedFunctionProps{ReservedConcurrency: jsii.Number(reserved)}}
			// WHEN the worker is synthesized
			_, tpl := synth(t, props, nil)
			// THEN the event source starts no more invocations than may run (none below 2,
			// the least an event source allows)
			_, esm := tpl.One(t, "AWS::Lambda::EventSourceMapping")
			assert.Equal(t, want, tu.Get(esm, "ScalingConfig", "MaximumConcurrency"))
		})
	}
}

func TestCustomProps(t *testing.T) {
	// GIVEN a KMS key, a topic, a larger batch with a window, and retained queues
	props := &queuedworker.QueuedWorkerProps{
		Consumer: alarmedfunction.AlarmedFunctionProps{
			Timeout: awscdk.Duration_Seconds(jsii.Number(30)),
		},
		QueueName:                 jsii.String("work"),
		DeadLetterQueueName:       jsii.String("work-dlq"),
		MaxReceiveCount:           jsii.Number(5),
		VisibilityTimeout:         awscdk.Duration_Seconds(jsii.Number(200)),
		BatchSize:                 jsii.Number(100),
		MaxBatchingWindow:         awscdk.Duration_Seconds(jsii.Number(5)),
		MaxConcurrency:            jsii.Number(4),
		DeadLetterDepthThreshold:  jsii.Number(10),
		OldestMessageAgeThreshold: awscdk.Duration_Minutes(jsii.Number(15)),
		RemovalPolicy:             awscdk.RemovalPolicy_RETAIN,
	}
	// WHEN the worker is synthesized
	_, tpl := synth(t, props, func(s awscdk.Stack, p *queuedworker.QueuedWorkerProps) {
		p.EncryptionKey = awskms.NewKey(s, jsii.String("Key"), nil)
		p.AlarmTopic = awssns.NewTopic(s, jsii.String("Topic"), nil)
	})
	keyID, _ := tpl.One(t, "AWS::KMS::Key")
	topicID, _ := tpl.One(t, "AWS::SNS::Topic")

	// THEN both queues use the key and are retained
	mainID, dlqID := queues(t, tpl)
	q := tpl.Resources("AWS::SQS::Queue")
	for _, id := range []string{mainID, dlqID} {
		assert.Equal(t, tu.GetAtt(keyID, "Arn"), q[id]["KmsMasterKeyId"], id)
		assert.NotContains(t, q[id], "SqsManagedSseEnabled", id)
		assert.Equal(t, "Retain", tu.Get(tpl.Resource(id), "DeletionPolicy"), id)
	}
	assert.Equal(t, "work", q[mainID]["QueueName"])
	assert.Equal(t, "work-dlq", q[dlqID]["QueueName"])
	assert.EqualValues(t, 200, q[mainID]["VisibilityTimeout"])
	assert.EqualValues(t, 5, tu.Get(q[mainID], "RedrivePolicy", "maxReceiveCount"))
	assert.Contains(t, policyActions(tpl), "kms:Decrypt", "the consumer may decrypt messages")

	// AND the event source batches
	_, esm := tpl.One(t, "AWS::Lambda::EventSourceMapping")
	assert.EqualValues(t, 100, esm["BatchSize"])
	assert.EqualValues(t, 5, esm["MaximumBatchingWindowInSeconds"])
	assert.EqualValues(t, 4, tu.Get(esm, "ScalingConfig", "MaximumConcurrency"))

	// AND thresholds follow the props
	_, depth := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool {
		return p["MetricName"] == "ApproximateNumberOfMessagesVisible"
	})
	assert.EqualValues(t, 10, depth["Threshold"])
	_, age := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool {
		return p["MetricName"] == "ApproximateAgeOfOldestMessage"
	})
	assert.EqualValues(t, 900, age["Threshold"])

	// AND every alarm, the consumer's included, notifies the topic
	require.Equal(t, 6, tpl.Count("AWS::CloudWatch::Alarm"))
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		assert.Equal(t, []any{tu.Ref(topicID)}, a["AlarmActions"], id)
		assert.Equal(t, []any{tu.Ref(topicID)}, a["OKActions"], id)
	}
	// AND the consumer's log group inherits the removal policy
	lgID, _ := tpl.One(t, "AWS::Logs::LogGroup")
	assert.Equal(t, "Retain", tu.Get(tpl.Resource(lgID), "DeletionPolicy"))
}

func TestValidateDefaults(t *testing.T) {
	// GIVEN only the consumer's code WHEN validated THEN there is no problem
	p := &queuedworker.QueuedWorkerProps{Consumer: alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t)}}
	require.NoError(t, p.Validate())
	// AND the visibility timeout defaults to 6 × the consumer's timeout
	d := p.WithDefaults()
	assert.EqualValues(t, 60, *d.VisibilityTimeout.ToSeconds(nil))
	p.Consumer.Timeout = awscdk.Duration_Seconds(jsii.Number(45))
	assert.EqualValues(t, 270, *p.WithDefaults().VisibilityTimeout.ToSeconds(nil))
	assert.Nil(t, p.VisibilityTimeout, "WithDefaults does not modify the receiver")
}

func TestValidateReportsEachProblem(t *testing.T) {
	secs := func(s float64) awscdk.Duration { return awscdk.Duration_Seconds(jsii.Number(s)) }
	cases := map[string]struct {
		props queuedworker.QueuedWorkerProps
		want  []string
	}{
		"visibility below 6x consumer timeout": {
			queuedworker.QueuedWorkerProps{
				Consumer:          alarmedfunction.AlarmedFunctionProps{Timeout: secs(30)},
				VisibilityTimeout: secs(60),
			},
			[]string{"VisibilityTimeout 60 s", "Consumer.Timeout (30 s)", "180 s"},
		},
		"visibility below 6x default consumer timeout": {
			queuedworker.QueuedWorkerProps{VisibilityTimeout: secs(30)},
			[]string{"VisibilityTimeout 30 s", "Consumer.Timeout (10 s)"},
		},
		"batch size 100 without window": {
			queuedworker.QueuedWorkerProps{BatchSize: jsii.Number(100)},
			[]string{"BatchSize 100", "MaxBatchingWindow"},
		},
		"batch size 20000":   {queuedworker.QueuedWorkerProps{BatchSize: jsii.Number(20000), MaxBatchingWindow: secs(1)}, []string{"BatchSize 20000"}},
		"window 301 s":       {queuedworker.QueuedWorkerProps{MaxBatchingWindow: secs(301)}, []string{"MaxBatchingWindow 301 s"}},
		"max receive 0":      {queuedworker.QueuedWorkerProps{MaxReceiveCount: jsii.Number(0)}, []string{"MaxReceiveCount 0"}},
		"max receive 1001":   {queuedworker.QueuedWorkerProps{MaxReceiveCount: jsii.Number(1001)}, []string{"MaxReceiveCount 1001"}},
		"consumer memory 64": {queuedworker.QueuedWorkerProps{Consumer: alarmedfunction.AlarmedFunctionProps{MemorySize: jsii.Number(64)}}, []string{"Consumer.MemorySize 64"}},
		"dlq retention too short": {
			queuedworker.QueuedWorkerProps{RetentionPeriod: awscdk.Duration_Days(jsii.Number(7)), DeadLetterRetentionPeriod: awscdk.Duration_Days(jsii.Number(2))},
			[]string{"DeadLetterRetentionPeriod 172800 s", "RetentionPeriod 604800 s"},
		},
		"retention 15 days":   {queuedworker.QueuedWorkerProps{RetentionPeriod: awscdk.Duration_Days(jsii.Number(15))}, []string{"RetentionPeriod"}},
		"dlq visibility 13 h": {queuedworker.QueuedWorkerProps{DeadLetterVisibilityTimeout: awscdk.Duration_Hours(jsii.Number(13))}, []string{"DeadLetterVisibilityTimeout"}},
		"fifo queue name":     {queuedworker.QueuedWorkerProps{QueueName: jsii.String("q.fifo")}, []string{"QueueName"}},
		"bad dlq name":        {queuedworker.QueuedWorkerProps{DeadLetterQueueName: jsii.String("a b")}, []string{"DeadLetterQueueName"}},
		"depth threshold 0":   {queuedworker.QueuedWorkerProps{DeadLetterDepthThreshold: jsii.Number(0)}, []string{"DeadLetterDepthThreshold 0"}},
		"oldest age 0":        {queuedworker.QueuedWorkerProps{OldestMessageAgeThreshold: secs(0)}, []string{"OldestMessageAgeThreshold"}},
		"max concurrency 1":   {queuedworker.QueuedWorkerProps{MaxConcurrency: jsii.Number(1)}, []string{"MaxConcurrency 1"}},
		"max concurrency above reserved": {
			queuedworker.QueuedWorkerProps{MaxConcurrency: jsii.Number(5), Consumer: alarmedfunction.AlarmedFunctionProps{ReservedConcurrency: jsii.Number(3)}},
			[]string{"MaxConcurrency 5 exceeds Consumer.ReservedConcurrency 3"},
		},
		"snapshot removal":      {queuedworker.QueuedWorkerProps{RemovalPolicy: awscdk.RemovalPolicy_SNAPSHOT}, []string{"RemovalPolicy"}},
		"consumer code missing": {queuedworker.QueuedWorkerProps{}, []string{"Consumer.CodeDir is required"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN props with one problem (and the consumer's code unless the case is about it)
			p := tc.props
			if p.Consumer.CodeDir == nil && name != "consumer code missing" {
				p.Consumer.CodeDir = tu.CodeDir(t)
			}
			// WHEN validated THEN the error names the props involved
			err := p.Validate()
			require.Error(t, err)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestNewPanicsWithEveryProblemBeforeCreatingResources(t *testing.T) {
	// GIVEN props with several problems, the consumer's included
	stack := tu.NewStack(app, t.Name())
	props := &queuedworker.QueuedWorkerProps{
		Consumer: alarmedfunction.AlarmedFunctionProps{
			CodeDir:    tu.CodeDir(t),
			MemorySize: jsii.Number(64),
			Timeout:    awscdk.Duration_Seconds(jsii.Number(30)),
		},
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(30)),
		BatchSize:         jsii.Number(100),
		MaxReceiveCount:   jsii.Number(0),
	}
	// WHEN the worker is created
	msg := tu.MustPanic(t, func() { queuedworker.NewQueuedWorker(stack, "Worker", props) })

	// THEN one message reports them all, one per line
	for _, want := range []string{`queuedworker "Worker"`, "Consumer.MemorySize 64", "VisibilityTimeout 30 s", "BatchSize 100", "MaxReceiveCount 0"} {
		assert.Contains(t, msg, want)
	}
	assert.GreaterOrEqual(t, strings.Count(msg, "\n"), 4)
	// AND nothing was added to the stack
	assert.Nil(t, stack.Node().TryFindChild(jsii.String("Worker")))
}

// importedQueues are a team's own queue and dead-letter queue, imported into stack.
func importedQueues(stack awscdk.Stack) (queue, dlq awssqs.IQueue) {
	queue = awssqs.Queue_FromQueueArn(stack, jsii.String("Orders"), jsii.String("arn:aws:sqs:us-east-1:111111111111:orders"))
	dlq = awssqs.Queue_FromQueueArn(stack, jsii.String("OrdersDLQ"), jsii.String("arn:aws:sqs:us-east-1:111111111111:orders-dlq"))
	return queue, dlq
}

func TestExistingQueuesAreConsumedNotCreated(t *testing.T) {
	// GIVEN a team's own queue and dead-letter queue
	props := &queuedworker.QueuedWorkerProps{}
	w, tpl := synth(t, props, func(stack awscdk.Stack, p *queuedworker.QueuedWorkerProps) {
		p.ExistingQueue, p.ExistingDeadLetterQueue = importedQueues(stack)
	})
	// THEN the worker creates no queue and consumes theirs
	assert.Equal(t, 0, tpl.Count("AWS::SQS::Queue"))
	assert.Equal(t, 0, tpl.Count("AWS::SQS::QueuePolicy"))
	_, esm := tpl.One(t, "AWS::Lambda::EventSourceMapping")
	assert.Equal(t, "arn:aws:sqs:us-east-1:111111111111:orders", esm["EventSourceArn"])
	assert.Same(t, props.ExistingQueue, w.Queue)
	assert.Same(t, props.ExistingDeadLetterQueue, w.DeadLetterQueue)
	// AND the consumer may poll exactly that queue, and the alarms watch the team's queues
	_, policy := tpl.Where(t, "AWS::IAM::Policy", func(p map[string]any) bool {
		return strings.Contains(jsonOf(p), "sqs:ReceiveMessage")
	})
	assert.Contains(t, jsonOf(policy), `"Resource":"arn:aws:sqs:us-east-1:111111111111:orders"`)
	assert.Contains(t, jsonOf(tpl.AlarmOn(t, "ApproximateNumberOfMessagesVisible")["Dimensions"]), `"Value":"orders-dlq"`)
	assert.Contains(t, jsonOf(tpl.AlarmOn(t, "ApproximateAgeOfOldestMessage")["Dimensions"]), `"Value":"orders"`)
}

func TestExistingDeadLetterQueueOnly(t *testing.T) {
	// GIVEN only a team's dead-letter queue
	_, tpl := synth(t, &queuedworker.QueuedWorkerProps{}, func(stack awscdk.Stack, p *queuedworker.QueuedWorkerProps) {
		_, p.ExistingDeadLetterQueue = importedQueues(stack)
	})
	// THEN the worker creates the main queue alone, redriving to theirs
	require.Equal(t, 1, tpl.Count("AWS::SQS::Queue"))
	_, q := tpl.One(t, "AWS::SQS::Queue")
	assert.Equal(t, "arn:aws:sqs:us-east-1:111111111111:orders-dlq", tu.Get(q, "RedrivePolicy", "deadLetterTargetArn"))
}

func TestExistingQueueWithThePropsItReplacesIsRefused(t *testing.T) {
	stack := tu.NewStack(app, t.Name())
	queue, dlq := importedQueues(stack)
	cases := map[string]struct {
		props queuedworker.QueuedWorkerProps
		want  []string
	}{
		"queue without its dead-letter queue": {queuedworker.QueuedWorkerProps{ExistingQueue: queue},
			[]string{"ExistingQueue needs ExistingDeadLetterQueue"}},
		"queue with its name and retention": {queuedworker.QueuedWorkerProps{ExistingQueue: queue, ExistingDeadLetterQueue: dlq,
			QueueName: jsii.String("q"), RetentionPeriod: awscdk.Duration_Days(jsii.Number(2))},
			[]string{"ExistingQueue and QueueName", "ExistingQueue and RetentionPeriod"}},
		"queue with a receive count and key": {queuedworker.QueuedWorkerProps{ExistingQueue: queue, ExistingDeadLetterQueue: dlq,
			MaxReceiveCount: jsii.Number(5), EncryptionKey: awskms.NewKey(stack, jsii.String("Key"), nil)},
			[]string{"ExistingQueue and MaxReceiveCount", "ExistingQueue and EncryptionKey"}},
		"dead-letter queue with its props": {queuedworker.QueuedWorkerProps{ExistingDeadLetterQueue: dlq,
			DeadLetterQueueName: jsii.String("d"), DeadLetterVisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(1))},
			[]string{"ExistingDeadLetterQueue and DeadLetterQueueName", "ExistingDeadLetterQueue and DeadLetterVisibilityTimeout"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.props
			p.Consumer.CodeDir = tu.CodeDir(t)
			err := p.Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// jsonOf is v as JSON text.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
