package cost

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/payhook/payhook/envs"
)

// Measured is what `mage bench` measured and wrote to docs/bench.json, as the estimates use
// it: per function, the warm invocation's duration and its log bytes.
type Measured struct {
	// Date is when the figures were measured.
	Date string `json:"date"`
	// Functions holds payhook's functions by service name ("ingest", "accounting", ...)
	// and "floor" (a bare aws-lambda-go function).
	Functions map[string]FunctionFigures `json:"functions"`
	// Reference holds the reference design's Python ingest, measured the same way.
	Reference FunctionFigures `json:"reference"`
}

// FunctionFigures are one function's medians.
type FunctionFigures struct {
	InitMs    float64 `json:"init_ms_p50"`
	InitP90Ms float64 `json:"init_ms_p90"`
	FirstMs   float64 `json:"first_response_ms_p50"`
	WarmMs    float64 `json:"warm_ms_p50"`
	RSSMB     float64 `json:"max_rss_mb"`
	LogBytes  float64 `json:"log_bytes_per_invoke"`
	SizeBytes int64   `json:"size_bytes,omitempty"`
}

// handler is a function's figures with its warm duration less the floor's (the emulator's
// round trip, which Lambda does not bill), at least 1 ms.
func (m Measured) handler(name string) FunctionFigures {
	f := m.Functions[name]
	f.WarmMs = math.Max(1, f.WarmMs-m.Functions["floor"].WarmMs)
	return f
}

// LoadMeasured reads docs/bench.json.
func LoadMeasured(path string) (Measured, error) {
	var m Measured
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("measured durations: %w (run `go run mage.go bench` first)", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("measured durations: %s: %w", path, err)
	}
	for _, fn := range []string{"ingest", "accounting", "reconciler"} {
		if m.Functions[fn].WarmMs <= 0 {
			return m, fmt.Errorf("measured durations: %s has no warm duration for %s", path, fn)
		}
	}
	return m, nil
}

// Workload is the traffic an estimate is for.
type Workload struct {
	// WebhooksPerMonth is the number of distinct notifications a month.
	WebhooksPerMonth float64
	// RetryFraction is the share of them delivered a second time (a provider retrying
	// after a timeout or a 5xx).
	RetryFraction float64
}

// TemplateCounts are counted from an env's synthesized template.
type TemplateCounts struct {
	// AlarmMetrics is the billed alarm metrics: one per plain alarm, one per metric of a
	// metric-math alarm.
	AlarmMetrics int
	Dashboards   int
	KMSKeys      int
	Secrets      int
	WAFRules     int
}

// ddbWritesPerWebhook are the write request units one new webhook costs, counted from the
// services' calls: ingest's conditional PutItem (1) and its gsi1 outbox entry (1); the
// move from the outbox to the in-flight list (1, and 2 on gsi1: the key changes); and
// accounting's TransactWriteItems of the record and the daily total (2 items × 2 for a
// transaction) plus the record leaving gsi1 (1). Items up to 1 KB.
const ddbWritesPerWebhook = 2 + 3 + 5

// reconcilerQueriesPerRun: the outbox and in-flight sweeps (8 shards each) and the oldest
// unaccounted read (one item from each of the 16 shards); each query reads at least 0.5 RRU.
const reconcilerQueriesPerRun = 8 + 8 + 16

// idleReceivesPerQueue: Lambda's SQS event source keeps about five 20-second long polls
// open per queue, even when the queue is empty.
const idleReceivesPerQueue = 5 * secondsPerMonth / 20

// Payhook estimates env e at workload w, with m's durations and the template's counts.
func Payhook(e envs.Env, w Workload, m Measured, t TemplateCounts) Estimate {
	n := w.WebhooksPerMonth
	deliveries := n * (1 + w.RetryFraction)
	rps := n / secondsPerMonth
	perBatch := math.Max(1, math.Min(float64(e.Worker.BatchSize), rps*math.Max(1, float64(e.Worker.BatchingWindowSeconds))))
	batches := n / perBatch
	// Lambda bills the handler's time: take off the emulator's own round trip (the floor's).
	ingest, accounting, reconciler := m.handler("ingest"), m.handler("accounting"), m.handler("reconciler")
	runs := float64(secondsPerMonth / 60)
	ingestContainers := math.Max(1, math.Ceil(rps*ingest.WarmMs/1000))
	est := Estimate{Title: "payhook " + e.Name, Region: e.Region, WebhooksPerMonth: n}
	est.Lines = append(est.Lines, edgeLines(deliveries, t.WAFRules)...)
	est.Lines = append(est.Lines, lambdaLines([]Function{
		{"ingest", e.Functions.Ingest.MemoryMB, deliveries, ingest.WarmMs, ingest.LogBytes},
		{"accounting", e.Functions.Accounting.MemoryMB, batches, accounting.WarmMs * perBatch, accounting.LogBytes * perBatch},
		{"reconciler", 128, runs, reconciler.WarmMs, reconciler.LogBytes},
	})...)
	est.Lines = append(est.Lines,
		Line{"DynamoDB", "write request units", (n*ddbWritesPerWebhook + (deliveries-n)*1) / 1e6, Prices.DynamoWRU,
			fmt.Sprintf("%d WRU per webhook, 1 per retried delivery (a failed conditional put)", ddbWritesPerWebhook)},
		Line{"DynamoDB", "read request units", runs * reconcilerQueriesPerRun * 0.5 / 1e6, Prices.DynamoRRU,
			fmt.Sprintf("reconciler: %d queries a minute", reconcilerQueriesPerRun)},
		Line{"SQS", "requests", (n + 2*batches + 2*idleReceivesPerQueue) / 1e6, Prices.SQSRequests,
			"a send per webhook, a receive and a delete per batch, idle long polls on the queue and the DLQ"},
		Line{"Secrets Manager", "secret", float64(t.Secrets), Prices.Secret, "signing secrets"},
		Line{"Secrets Manager", "GetSecretValue", ingestContainers * secondsPerMonth / 300 / 1e4, Prices.SecretCalls,
			fmt.Sprintf("%g warm ingest containers, each re-reading every 5 min (cache TTL)", ingestContainers)},
		Line{"KMS", "alerts key", float64(t.KMSKeys), Prices.KMSKey, "alerts topic encryption"},
		Line{"KMS", "requests", 0, Prices.KMSRequests, "only when an alert is published to the encrypted topic (none assumed)"},
		Line{"SNS", "publishes", 0, Prices.SNSPublish, "alerts only: dead messages and alarms (none assumed)"},
		Line{"CloudWatch", "alarms", float64(t.AlarmMetrics), Prices.Alarm, "alarm metrics counted in the template"},
		Line{"CloudWatch", "dashboard", float64(t.Dashboards), Prices.Dashboard, "one per env"},
		Line{"CloudWatch", "EMF custom metrics", 16, Prices.CustomMetric, "services' metrics by name and dimensions"},
		Line{"CloudWatch", "API access logs", deliveries * 450 / 1e9, Prices.LogsIngest, "≈450 B per request"},
		Line{"X-Ray", "traces", (xrayTraces(deliveries) + xrayTraces(batches)) / 1e6, Prices.XRay,
			"default sampling: 1 request/s + 5% of the rest, API and queue traces"},
	)
	est.Assumptions = []string{
		fmt.Sprintf("%.0f%% of webhooks delivered twice by the provider", 100*w.RetryFraction),
		fmt.Sprintf("webhooks spread evenly over 30 days (%.2f/s); accounting batches of %.1f messages", rps, perBatch),
		"handler durations (warm invocation less the bare function's) and log sizes as measured by `mage bench` on this machine (" + m.Date + "), not on Graviton",
		"no dead messages (notify-failures idle, no SNS alerts); items up to 1 KB; free tiers excluded",
	}
	return finish(est)
}

// edgeLines price the API and WAF for deliveries a month.
func edgeLines(deliveries float64, wafRules int) []Line {
	return []Line{
		{"API Gateway", "REST requests", deliveries / 1e6, Prices.APIRequests, "one per delivery"},
		{"WAF", "web ACL", 1, Prices.WAFACL, ""},
		{"WAF", "rules", float64(wafRules), Prices.WAFRule, "rules and managed rule groups in the web ACL"},
		{"WAF", "requests", deliveries / 1e6, Prices.WAFRequests, "one per delivery"},
	}
}

// Reference estimates the reference design (Python 3.11 on arm64, 512 MB for ingest and
// accounting) at workload w: no idempotency, so a retried delivery is stored and counted
// again, and every delivery goes through the whole pipeline; no outbox, secret or key.
func Reference(w Workload, m Measured) Estimate {
	n := w.WebhooksPerMonth
	deliveries := n * (1 + w.RetryFraction)
	rps := n / secondsPerMonth
	perBatch := math.Max(1, math.Min(10, rps))
	batches := deliveries / perBatch
	ref := m.Reference
	est := Estimate{Title: "reference design", Region: PricedRegion, WebhooksPerMonth: n}
	est.Lines = append(est.Lines, edgeLines(deliveries, 1)...)
	est.Lines = append(est.Lines, lambdaLines([]Function{
		{"ingest (Python)", 512, deliveries, ref.WarmMs, ref.LogBytes},
		// Only its ingest module was measured; its accounting (one update per message) is
		// priced with the ingest handler's per-call time and log size.
		{"accounting (Python)", 512, batches, ref.WarmMs * perBatch, ref.LogBytes * perBatch},
	})...)
	est.Lines = append(est.Lines,
		Line{"DynamoDB", "write request units", deliveries * 2 / 1e6, Prices.DynamoWRU,
			"a put per delivery and an update when accounted (no index, no transaction)"},
		Line{"SQS", "requests", (deliveries + 2*batches + 2*idleReceivesPerQueue) / 1e6, Prices.SQSRequests,
			"a send per delivery, a receive and a delete per batch, idle long polls"},
		Line{"CloudWatch", "alarms", 6, Prices.Alarm, "its six alarms"},
		Line{"CloudWatch", "API access logs", deliveries * 450 / 1e9, Prices.LogsIngest, "≈450 B per request"},
		Line{"X-Ray", "traces", (xrayTraces(deliveries) + xrayTraces(batches)) / 1e6, Prices.XRay, "default sampling"},
	)
	est.Assumptions = []string{
		"its ingest handler's warm duration and log size measured by `mage bench` (timed in process, boto3 against the same emulators); its accounting priced per message with the same figures, unmeasured",
		"every retried delivery is a second record and a second accounting update (its defect 2)",
	}
	return finish(est)
}
