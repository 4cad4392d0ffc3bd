// Package tools groups payhook's command-line tools, which are not Lambda functions:
// smoke (prove a running environment end to end), loadtest (throughput, latency, lost and
// double-counted under load), failures (what died in the DLQ, and why), replay (put recorded
// failures back on the queue) and totals (a day's totals per provider and currency). Each
// runs against the local stack or a deployed env; `go run mage.go <tool>` wraps them.
package tools
