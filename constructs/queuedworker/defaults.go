package queuedworker

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Secure and operational defaults of the construct, kept in one place. Every
// optional field of QueuedWorkerProps falls back to one of these values.
const (
	// DefaultMaxReceiveCount is how many times a message is received before
	// SQS moves it to the dead-letter queue.
	DefaultMaxReceiveCount = 3
	// MaxMaxReceiveCount is the largest receive count SQS accepts.
	MaxMaxReceiveCount = 1000
	// VisibilityTimeoutFactor is the minimum ratio of the queue's
	// visibility timeout to the consumer's timeout, per AWS guidance for
	// Lambda SQS event sources; it is also the default ratio.
	VisibilityTimeoutFactor = 6
	// MaxVisibilityTimeoutSeconds is the largest visibility timeout SQS
	// accepts (12 hours).
	MaxVisibilityTimeoutSeconds = 12 * 60 * 60
	// DefaultRetentionDays is how long the main queue keeps a message.
	DefaultRetentionDays = 4
	// DefaultDeadLetterRetentionDays is how long the dead-letter queue keeps
	// a message: the SQS maximum, so operators have time to replay it.
	DefaultDeadLetterRetentionDays = 14
	// MinRetentionSeconds is the shortest retention SQS accepts.
	MinRetentionSeconds = 60
	// MaxRetentionSeconds is the longest retention SQS accepts (14 days).
	MaxRetentionSeconds = 14 * 24 * 60 * 60
	// DefaultDeadLetterVisibilityTimeoutMinutes is the visibility timeout of
	// the dead-letter queue, for whatever consumes it elsewhere.
	DefaultDeadLetterVisibilityTimeoutMinutes = 5
	// DefaultBatchSize is the most messages one invocation receives.
	DefaultBatchSize = 10
	// MaxBatchSize is the largest batch a standard queue event source takes.
	MaxBatchSize = 10000
	// MaxBatchSizeWithoutWindow is the largest batch size allowed without a
	// batching window of at least one second.
	MaxBatchSizeWithoutWindow = 10
	// MaxBatchingWindowSeconds is the longest batching window Lambda accepts.
	MaxBatchingWindowSeconds = 300
	// DefaultDeadLetterDepthThreshold is the number of visible dead-letter
	// messages that sets off the dead-letter alarm.
	DefaultDeadLetterDepthThreshold = 1
	// DefaultOldestMessageAgeMinutes is the age of the oldest message in the
	// main queue that sets off the backlog alarm.
	DefaultOldestMessageAgeMinutes = 5
	// DefaultRemovalPolicy applies to both queues when the stack deletes
	// them.
	DefaultRemovalPolicy = awscdk.RemovalPolicy_DESTROY
	// QueueAlarmPeriodMinutes is the period of the queue alarms' metrics.
	QueueAlarmPeriodMinutes = 1
)

func queueAlarmPeriod() awscdk.Duration {
	return awscdk.Duration_Minutes(jsii.Number(QueueAlarmPeriodMinutes))
}

// PollActions are the SQS actions Lambda's event source poller calls with the consumer's
// role, as AWS's managed policy AWSLambdaSQSQueueExecutionRole lists them: all the consumer
// is granted on its queue.
func PollActions() []string {
	return []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
}
