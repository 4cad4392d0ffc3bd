// Package queuedworker provides QueuedWorker, an AWS CDK L3 construct for an
// SQS queue processed by a Lambda function: a main queue and a dead-letter
// queue (both encrypted, SSL-only), an alarmedfunction.AlarmedFunction
// consumer attached through its "live" alias with ReportBatchItemFailures
// (a failed message is retried alone and dead-lettered after
// MaxReceiveCount receives), and alarms on dead letters and backlog age.
//
// The visibility timeout defaults to, and may not be set below, six times
// the consumer's timeout (AWS guidance for Lambda SQS event sources).
// Defaults live in defaults.go; props are validated before any resource is
// created, and every problem is reported in one panic.
//
// Usage:
//
//	worker := queuedworker.NewQueuedWorker(stack, "Accounting", &queuedworker.QueuedWorkerProps{
//		Consumer: alarmedfunction.AlarmedFunctionProps{
//			CodeDir: jsii.String("build/accounting"), // holds build/accounting/bootstrap
//			Timeout: awscdk.Duration_Seconds(jsii.Number(30)),
//		},
//		MaxReceiveCount: jsii.Number(5),
//		AlarmTopic:      topic,
//	})
//	table.GrantReadWriteData(worker.Consumer.Function)
//	worker.Queue.GrantSendMessages(producer.Function)
package queuedworker
