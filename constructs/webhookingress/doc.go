// Package webhookingress provides WebhookIngress, an AWS CDK L3 construct for
// receiving server-to-server webhooks: a regional API Gateway REST API with
// one POST resource behind an API key and a usage plan (throttle and daily
// quota), a Lambda proxy integration on an alarmedfunction.AlarmedFunction's
// "live" alias (so the function's statusCode is the HTTP status the sender
// sees), JSON access logs in an explicit log group, execution logging
// without request or response bodies, X-Ray tracing, a WAF WebACL (per-IP
// rate limit, AWS common, known-bad-inputs and IP-reputation rule groups;
// no Bot Control) associated with the stage, and alarms on 5XX responses and
// p99 latency.
//
// Defaults live in defaults.go; props are validated before any resource is
// created, and every problem is reported in one panic.
//
// Usage: see ExampleNewWebhookIngress, a compiled and tested example of an
// ingress whose handler queues each webhook for a queuedworker.QueuedWorker.
package webhookingress
