package queuedworker

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// ConsumeProps configures Consume.
type ConsumeProps struct {
	// BatchSize is the most messages one invocation receives.
	//
	// Default: 10.
	BatchSize *float64
	// MaxBatchingWindow is how long Lambda gathers messages before invoking.
	//
	// Default: none (invoke with what one poll returned).
	MaxBatchingWindow awscdk.Duration
	// MaxConcurrency caps the concurrent invocations of the mapping (2..1000).
	//
	// Default: no cap.
	MaxConcurrency *float64
}

// Consume makes target (a function, or its alias) consume queue through an SQS event source
// mapping with partial batch responses (ReportBatchItemFailures), and grants fn's role what
// the poller calls and nothing more: PollActions on the queue, plus kms:Decrypt when a
// customer managed key encrypts it. (CDK's SqsEventSource also grants
// sqs:ChangeMessageVisibility and sqs:GetQueueUrl, which the poller never calls.)
func Consume(target awslambda.IFunction, fn awslambda.IFunction, queue awssqs.IQueue, props *ConsumeProps) awslambda.EventSourceMapping {
	if props == nil {
		props = &ConsumeProps{}
	}
	batch := props.BatchSize
	if batch == nil {
		batch = jsii.Number(DefaultBatchSize)
	}
	m := target.AddEventSourceMapping(jsii.String("SqsEventSource"), &awslambda.EventSourceMappingOptions{
		EventSourceArn:          queue.QueueArn(),
		BatchSize:               batch,
		MaxBatchingWindow:       props.MaxBatchingWindow,
		MaxConcurrency:          props.MaxConcurrency,
		ReportBatchItemFailures: jsii.Bool(true),
	})
	actions := make([]*string, 0, 3)
	for _, a := range PollActions() {
		actions = append(actions, jsii.String(a))
	}
	queue.Grant(fn, actions...)
	if key := queue.EncryptionMasterKey(); key != nil {
		key.GrantDecrypt(fn)
	}
	return m
}
