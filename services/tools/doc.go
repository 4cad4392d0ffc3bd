// Package tools groups payhook's command-line tools, which are not Lambda functions:
// smoke (prove a running environment end to end), replay (put recorded failures back on the
// queue) and loadtest (throughput, latency, lost and double-counted under load). Each runs
// against the local stack or a deployed env; `go run mage.go smoke|replay|loadtest` wraps them.
package tools
