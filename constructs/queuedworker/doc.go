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
// Usage: see ExampleNewQueuedWorker, a compiled and tested example of a
// worker whose consumer writes a table and whose queue another function
// feeds.
package queuedworker
