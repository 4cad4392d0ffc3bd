package cost

import (
	"encoding/json"
	"fmt"
	"io"
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
	// RotatedKeys are the keys with yearly rotation on.
	RotatedKeys int
	Secrets     int
	WAFRules    int
	// PITR is true when the table has point-in-time recovery on.
	PITR bool
}

// Write request units of one new webhook's happy path, as DynamoDB reports them
// (services/internal/store's TestWriteUnitsPerWebhook measures them with
// ReturnConsumedCapacity against DynamoDB Local and fails when they differ from these):
// ingest's conditional put (record 1, gsi1 outbox entry 1; its other call is the send);
// accounting's batch transaction (per record:
// 2 × record, 2 × the record leaving gsi1; per daily total in the batch: 2). Items up to
// 1 KB; with 4 KB of metadata every record and gsi1 write costs 5. A provider event (Stripe,
// Standard Webhooks) is accounted alone, its payment's ledger in its transaction (2 more,
// and a 0.5 RRU read).
const (
	WriteUnitsIngest        = 2
	WriteUnitsAccountRecord = 4
	WriteUnitsTotal         = 2
	// WriteUnitsFlat is a flat webhook accounted alone (a batch of one).
	WriteUnitsFlat        = WriteUnitsIngest + WriteUnitsAccountRecord + WriteUnitsTotal
	WriteUnitsMetadata4KB = 10 + 20 + WriteUnitsTotal
	WriteUnitsEvent       = WriteUnitsFlat + 2
)

// WriteUnitsPerWebhook is a flat webhook's write units when accounting batches perBatch
// messages that add to one daily total (one provider, day and currency): the total's
// update is shared by the batch.
func WriteUnitsPerWebhook(perBatch float64) float64 {
	return WriteUnitsIngest + WriteUnitsAccountRecord + WriteUnitsTotal/math.Max(1, perBatch)
}

// guarantee is what one of payhook's promises costs in write units per webhook, beyond the
// reference design's put and update.
type guarantee struct {
	name  string
	units float64
	calls int // AWS calls in ingest beyond the reference's put and send
	how   string
	// perBatch: units are written once per accounting batch, shared by its messages.
	perBatch bool
}

// guarantees split WriteUnitsFlat: the reference's put (1) and update (1), plus these.
var guarantees = []guarantee{
	{"nothing lost (the outbox on gsi1)", 3, 0, "the gsi1 entry written with the record 1, leaving gsi1 in accounting's transaction 2", false},
	{"counted exactly once (status and total in one transaction)", 1, 0, "the record's update written transactionally (2 instead of 1)", false},
	{"exact daily totals (a total per provider, day and currency)", WriteUnitsTotal, 0, "the total's update, transactional, once per accounting batch", true},
}

// RecordBytes is a flat record's stored size once accounted, with a 27-character
// transaction id and DynamoDB's 100-byte item overhead (TestWriteUnitsPerWebhook measures
// it); referenceRecordBytes is the reference design's item (its five attributes, the same
// id and its overhead).
const (
	RecordBytes          = 430
	referenceRecordBytes = 260
)

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
	perBatch := PerBatch(e, w)
	batches := n / perBatch
	// Lambda bills the handler's time: take off the emulator's own round trip (the floor's).
	ingest, accounting, reconciler := m.handler("ingest"), m.handler("accounting"), m.handler("reconciler")
	runs := float64(secondsPerMonth / 60)
	ingestContainers := math.Max(1, math.Ceil(rps*ingest.WarmMs/1000))
	est := Estimate{Title: "payhook " + e.Name, Region: e.Region, WebhooksPerMonth: n}
	est.Lines = append(est.Lines, edgeLines(deliveries, t.WAFRules)...)
	est.Lines = append(est.Lines, lambdaLines([]Function{
		{"ingest", e.Functions.Ingest.MemoryMB, deliveries, ingest.WarmMs, ingest.LogBytes},
		// One summary line a batch (and the batch's metrics), whatever its size; its time is
		// counted per message, an upper bound now that a batch is one transaction.
		{"accounting", e.Functions.Accounting.MemoryMB, batches, accounting.WarmMs * perBatch, accounting.LogBytes},
		{"reconciler", 128, runs, reconciler.WarmMs, reconciler.LogBytes},
	})...)
	est.Lines = append(est.Lines,
		Line{"DynamoDB", "write request units", (n*WriteUnitsPerWebhook(perBatch) + (deliveries-n)*1) / 1e6, Prices.DynamoWRU,
			fmt.Sprintf("%.1f WRU per webhook (measured: %d in ingest, %d per record and %d per total in accounting's batch transaction), 1 per retried delivery (a failed conditional put)",
				WriteUnitsPerWebhook(perBatch), WriteUnitsIngest, WriteUnitsAccountRecord, WriteUnitsTotal)},
		Line{"DynamoDB", "read request units", runs * reconcilerQueriesPerRun * 0.5 / 1e6, Prices.DynamoRRU,
			fmt.Sprintf("reconciler: %d queries a minute", reconcilerQueriesPerRun)},
		Line{"SQS", "requests", (n + 2*batches + 2*idleReceivesPerQueue) / 1e6, Prices.SQSRequests,
			"a send per webhook, a receive and a delete per batch, idle long polls on the queue and the DLQ"},
		Line{"Secrets Manager", "secret", float64(t.Secrets), Prices.Secret, "the providers' signing secrets and the smoke provider's"},
		Line{"Secrets Manager", "GetSecretValue", float64(t.Secrets) * ingestContainers * secondsPerMonth / 300 / 1e4, Prices.SecretCalls,
			fmt.Sprintf("%g warm ingest containers, each re-reading its %d secrets every 5 min (cache TTL)", ingestContainers, t.Secrets)},
		Line{"KMS", "customer managed keys", float64(t.KMSKeys), Prices.KMSKey, "alerts topic, log groups and secrets keys"},
		Line{"KMS", "key rotations", float64(t.RotatedKeys) * 2, Prices.KMSRotation, "yearly rotation: the first two rotations of each key add $1 a month each (from the third year on)"},
		Line{"KMS", "requests", 0, Prices.KMSRequests, "only when an alert is published to the encrypted topic (none assumed)"},
		Line{"SNS", "publishes", 0, Prices.SNSPublish, "alerts only: dead messages and alarms (none assumed)"},
		Line{"CloudWatch", "alarms", float64(t.AlarmMetrics), Prices.Alarm, "alarm metrics counted in the template"},
		Line{"CloudWatch", "dashboard", float64(t.Dashboards), Prices.Dashboard, "one per env"},
		Line{"CloudWatch", "EMF custom metrics", 16, Prices.CustomMetric, "services' metrics by name and dimensions"},
		Line{"CloudWatch", "API access logs", deliveries * 450 / 1e9, Prices.LogsIngest, "≈450 B per request"},
		Line{"X-Ray", "traces", sampledTraces(deliveries, e.Tracing) / 1e6, Prices.XRay, tracingHow(e.Tracing)},
	)
	est.Lines = append(est.Lines, storageLines(n*RecordBytes, t.PITR, logBytes(deliveries, batches, runs, ingest, accounting, reconciler), e.LogRetentionDays)...)
	est.Assumptions = []string{
		fmt.Sprintf("%.0f%% of webhooks delivered twice by the provider", 100*w.RetryFraction),
		fmt.Sprintf("webhooks spread evenly over 30 days (%.2f/s); accounting batches of %.1f messages", rps, perBatch),
		"handler durations (warm invocation less the bare function's) and log sizes as measured by `mage bench` on this machine (" + m.Date + "), not on Graviton",
		"no dead messages (notify-failures idle, no SNS alerts); items up to 1 KB; free tiers excluded",
		"storage: the month's records, which every later month keeps paying for (no TTL); logs kept for the env's retention, stored as ingested (an upper bound: CloudWatch bills them compressed)",
	}
	return finish(est)
}

// sampledTraces is how many of n requests a month the env's sampling rule traces: its
// reservoir each second, then its percentage of the rest (spread evenly over the month).
// The functions trace only what the API sampled, so nothing else adds a trace.
func sampledTraces(n float64, t envs.Tracing) float64 {
	reservoir := math.Min(n, float64(t.ReservoirPerSecond)*secondsPerMonth)
	return reservoir + t.SamplePercent/100*math.Max(0, n-reservoir)
}

// tracingHow says how the traces line was counted.
func tracingHow(t envs.Tracing) string {
	if t.Off() {
		return "tracing off"
	}
	return fmt.Sprintf("the API's sampling rule: %d request/s + %g%% of the rest; the functions trace only what it sampled", t.ReservoirPerSecond, t.SamplePercent)
}

// PerBatch is how many messages an accounting batch of env e holds at workload w: what
// arrives within its batching window (at least a second's), up to its batch size.
func PerBatch(e envs.Env, w Workload) float64 {
	rps := w.WebhooksPerMonth / secondsPerMonth
	return math.Max(1, math.Min(float64(e.Worker.BatchSize), rps*math.Max(1, float64(e.Worker.BatchingWindowSeconds))))
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
// accounting, batches of 10 within 5 s) at workload w: no idempotency, so a retried delivery
// is stored and counted again, and every delivery goes through the whole pipeline; no
// outbox, secret or key. Its logs are kept logRetentionDays (the env compared with).
func Reference(w Workload, m Measured, logRetentionDays int) Estimate {
	n := w.WebhooksPerMonth
	deliveries := n * (1 + w.RetryFraction)
	// Its accounting takes batches of 10 with a 5-second window.
	perBatch := math.Max(1, math.Min(10, deliveries/secondsPerMonth*5))
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
	refLogs := deliveries*ref.LogBytes + batches*ref.LogBytes*perBatch + deliveries*450
	est.Lines = append(est.Lines, storageLines(deliveries*referenceRecordBytes, true, refLogs, logRetentionDays)...)
	est.Assumptions = []string{
		fmt.Sprintf("accounting batches of %.1f messages (batch size 10, 5 s window)", perBatch),
		fmt.Sprintf("point-in-time recovery on, as it had; logs kept %d days, as the env compared with", logRetentionDays),
		"its ingest handler's warm duration and log size measured by `mage bench` (timed in process, boto3 against the same emulators); its accounting priced per message with the same figures, unmeasured",
		"every retried delivery is a second record and a second accounting update (its defect 2)",
	}
	return finish(est)
}

// storageLines price a month's new table data (and its point-in-time recovery) and the logs
// kept: logBytes a month, kept retentionDays (0: never expire, priced as a year).
func storageLines(tableBytes float64, pitr bool, logBytes float64, retentionDays int) []Line {
	gb := tableBytes / 1e9
	months := float64(retentionDays) / 30
	if retentionDays == 0 {
		months = 12
	}
	out := []Line{
		{"DynamoDB", "table storage", gb, Prices.DynamoStorage, "the month's records; each later month pays for them too"},
		{"CloudWatch", "log storage", logBytes / 1e9 * months, Prices.LogsStorage,
			fmt.Sprintf("a month's logs × %.1f months kept", months)},
	}
	if pitr {
		out = append(out, Line{"DynamoDB", "point-in-time recovery", gb, Prices.DynamoPITR, "continuous backups of the month's records"})
	}
	return out
}

// logBytes is what the functions and the API's access log write in a month: ingest per
// delivery, accounting per batch (one summary line and its metrics), the reconciler per run,
// 450 B of access log per request.
func logBytes(deliveries, batches, runs float64, ingest, accounting, reconciler FunctionFigures) float64 {
	return deliveries*ingest.LogBytes + batches*accounting.LogBytes + runs*reconciler.LogBytes + deliveries*450
}

// Guarantees prints what each of payhook's promises costs per webhook, beyond the reference
// design's put and update, when accounting batches perBatch messages of one daily total:
// write units, ingest calls and dollars per million webhooks.
func Guarantees(w io.Writer, perBatch float64) {
	fmt.Fprintf(w, "What each guarantee costs per webhook (beyond the reference design's put and update; accounting batches of %.1f):\n", perBatch)
	for _, g := range guarantees {
		calls := ""
		if g.calls > 0 {
			calls = fmt.Sprintf(" and %d AWS call", g.calls)
		}
		units := g.units
		if g.perBatch {
			units /= math.Max(1, perBatch)
		}
		fmt.Fprintf(w, "- %s: +%.2g WRU%s = $%.2f per million (%s)\n", g.name, units, calls, units*Prices.DynamoWRU.USD, g.how)
	}
}
