package cost

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/envs"
)

func TestCountTemplateOfProd(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "tests", "testdata", "prod.template.json"))
	require.NoError(t, err)
	c, err := CountTemplate(body)
	require.NoError(t, err)
	// 26 alarms, 4 of them error-rate alarms on metric math over 2 metrics each.
	// Two secrets: the providers' signing secrets and the smoke provider's. Three keys:
	// alerts, logs, secrets. WAF: the rate and body-size rules, stripe's path rate rule and
	// three managed groups.
	assert.Equal(t, TemplateCounts{AlarmMetrics: 22 + 4*2, Dashboards: 1, KMSKeys: 3, RotatedKeys: 3, Secrets: 2, WAFRules: 6, PITR: true}, c)
}

func measured() Measured {
	return Measured{Date: "test", Functions: map[string]FunctionFigures{
		"ingest":     {WarmMs: 10.2, LogBytes: 1000},
		"accounting": {WarmMs: 8, LogBytes: 500},
		"reconciler": {WarmMs: 40, LogBytes: 300},
		"floor":      {WarmMs: 0.2},
	}, Reference: FunctionFigures{WarmMs: 30, LogBytes: 1200}}
}

func line(t *testing.T, e Estimate, service, item string) Line {
	t.Helper()
	for _, l := range e.Lines {
		if l.Service == service && l.Item == item {
			return l
		}
	}
	t.Fatalf("no line %s / %s", service, item)
	return Line{}
}

func TestPayhookEstimateCountsWhatTheServicesDo(t *testing.T) {
	e := envs.Env{Name: "prod", Region: "us-east-1"}
	e.Functions.Ingest.MemoryMB = 256
	e.Functions.Accounting.MemoryMB = 256
	e.Worker.BatchSize = 10
	w := Workload{WebhooksPerMonth: 10e6, RetryFraction: 0.1}
	est := Payhook(e, w, measured(), TemplateCounts{AlarmMetrics: 29, Dashboards: 1, KMSKeys: 1, Secrets: 1, WAFRules: 4})
	require.True(t, est.Known)

	// 3.86 webhooks a second, window 0 (a second's worth): batches of 3.86 share a total's
	// 2 WRU; 6 more per webhook (measured) plus 1 per retried delivery (1M retries).
	perBatch := 10e6 / secondsPerMonth
	assert.InDelta(t, (10e6*(6+2/perBatch)+1e6)/1e6, line(t, est, "DynamoDB", "write request units").Quantity, 1e-9)
	// A month's records: 10M × 430 B = 4.3 GB stored; no PITR line without it in the template.
	assert.InDelta(t, 4.3, line(t, est, "DynamoDB", "table storage").Quantity, 1e-9)
	for _, l := range est.Lines {
		assert.NotEqual(t, "point-in-time recovery", l.Item, "the template has no PITR")
	}
	// Logs: 11M × 1000 B ingest + 500 B per accounting batch (10M / 3.86) + 43.2k × 300 B +
	// 11M × 450 B access, kept 0 days (never expire): priced as 12 months.
	logs := (11e6*1000 + 10e6/perBatch*500 + secondsPerMonth/60*300 + 11e6*450) / 1e9
	assert.InDelta(t, logs*12, line(t, est, "CloudWatch", "log storage").Quantity, 1e-6)
	// Ingest: 11M invocations of 10.2 ms less the floor's 0.2 ms, billed 10 ms, at 256 MB.
	assert.InDelta(t, 11e6*10/1000*0.25, line(t, est, "Lambda", "ingest compute").Quantity, 1e-6)
	assert.InDelta(t, 11, line(t, est, "API Gateway", "REST requests").Quantity, 1e-9)
	// 3.86 webhooks/s with a 1 s window: batches of 3.86 messages.
	rps := 10e6 / secondsPerMonth
	assert.InDelta(t, 10e6/rps/1e6, line(t, est, "Lambda", "accounting invocations").Quantity, 1e-9)
	assert.InDelta(t, 29*0.10, line(t, est, "CloudWatch", "alarms").USD(), 1e-9)

	var sum float64
	for _, l := range est.Lines {
		sum += l.USD()
		assert.NotEmpty(t, l.Price.Source, "%s/%s has a source", l.Service, l.Item)
	}
	assert.InDelta(t, sum, est.Total(), 1e-9)
	assert.InDelta(t, est.Total()/10, est.PerMillion(), 1e-9)
	for i := 1; i < len(est.Lines); i++ {
		assert.GreaterOrEqual(t, est.Lines[i-1].USD(), est.Lines[i].USD(), "largest first")
	}
}

func TestReferenceCountsEveryRetryAgain(t *testing.T) {
	ref := Reference(Workload{WebhooksPerMonth: 1e6, RetryFraction: 0.5}, measured(), 30)
	assert.InDelta(t, 1.5e6*2/1e6, line(t, ref, "DynamoDB", "write request units").Quantity, 1e-9)
	assert.InDelta(t, 1.5, line(t, ref, "Lambda", "ingest (Python) invocations").Quantity, 1e-9)
	assert.InDelta(t, 1.5e6*30/1000*0.5, line(t, ref, "Lambda", "ingest (Python) compute").Quantity, 1e-6)
}

// TestReferenceBatchesWithinItsWindow: the reference's accounting takes batches of 10 within
// 5 s, so at 3.86 deliveries a second its batches hold 10 messages, not 3.86.
func TestReferenceBatchesWithinItsWindow(t *testing.T) {
	ref := Reference(Workload{WebhooksPerMonth: 10e6}, measured(), 30)
	assert.InDelta(t, 1.0, line(t, ref, "Lambda", "accounting (Python) invocations").Quantity, 1e-9, "10M / 10 per batch")
	slow := Reference(Workload{WebhooksPerMonth: 1e6}, measured(), 30)
	rate := 1e6 / secondsPerMonth
	assert.InDelta(t, 1e6/(rate*5)/1e6, line(t, slow, "Lambda", "accounting (Python) invocations").Quantity, 1e-9,
		"below 2 a second a 5 s window holds fewer than 10")
	assert.InDelta(t, 10e6*referenceRecordBytes/1e9, line(t, ref, "DynamoDB", "point-in-time recovery").Quantity, 1e-9, "its table had PITR on")
}

// TestGuaranteesAddUpToTheMeasuredWrites: what each promise costs, plus the reference's put
// and update, is the measured WriteUnitsFlat, and each is printed with its dollars.
func TestGuaranteesAddUpToTheMeasuredWrites(t *testing.T) {
	sum := 2.0 // the reference design's put and update
	for _, g := range guarantees {
		sum += g.units
	}
	assert.Equal(t, float64(WriteUnitsFlat), sum)
	var b bytes.Buffer
	Guarantees(&b, 1)
	assert.Contains(t, b.String(), "- nothing lost (the outbox on gsi1): +3 WRU = $1.88 per million")
	assert.Contains(t, b.String(), "- counted exactly once (status and total in one transaction): +1 WRU = $0.62 per million")
	assert.Contains(t, b.String(), "- exact daily totals (a total per provider, day and currency): +2 WRU = $1.25 per million")
	b.Reset()
	Guarantees(&b, 10)
	assert.Contains(t, b.String(), "- exact daily totals (a total per provider, day and currency): +0.2 WRU = $0.12 per million", "shared by a batch of 10")
	assert.Equal(t, WriteUnitsFlat-1.8, WriteUnitsPerWebhook(10))
	assert.Equal(t, 6.2, WriteUnitsPerWebhook(10), "2 in ingest, 4 per record, 2 per batch's total")
}

func TestOtherRegionsAreUnknownNotGuessed(t *testing.T) {
	e := envs.Env{Name: "eu", Region: "eu-west-1"}
	e.Worker.BatchSize = 10
	est := Payhook(e, Workload{WebhooksPerMonth: 1e6}, measured(), TemplateCounts{})
	assert.False(t, est.Known)
	var b bytes.Buffer
	WriteMarkdown(&b, est)
	assert.Contains(t, b.String(), "Unknown: prices are held only for us-east-1")
	assert.NotContains(t, b.String(), "| **total**")
}

func TestXRaySampling(t *testing.T) {
	assert.Equal(t, 100.0, xrayTraces(100))
	assert.InDelta(t, secondsPerMonth+0.05*(10e6-secondsPerMonth), xrayTraces(10e6), 1e-6)
	assert.Equal(t, "12.35M", human(12.345e6))
	assert.Equal(t, "450k", human(450e3))
	assert.Equal(t, "0.0432", human(0.0432))
	assert.Equal(t, "12", human(12))
	assert.False(t, math.IsNaN(xrayTraces(0)))
}

func TestLoadMeasuredNamesWhatIsMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"functions":{"ingest":{"warm_ms_p50":3}}}`), 0o644))
	_, err := LoadMeasured(path)
	assert.ErrorContains(t, err, "no warm duration for accounting")
	_, err = LoadMeasured(filepath.Join(t.TempDir(), "none.json"))
	assert.ErrorContains(t, err, "run `go run mage.go bench` first")
}

func TestSampledTracesFollowTheEnvsRule(t *testing.T) {
	n := 10e6
	assert.InDelta(t, xrayTraces(n), sampledTraces(n, envs.Tracing{ReservoirPerSecond: 1, SamplePercent: 5}), 1e-6,
		"X-Ray's default rule, as the reference design is priced")
	assert.InDelta(t, 0.01*n, sampledTraces(n, envs.Tracing{SamplePercent: 1}), 1e-6)
	assert.Zero(t, sampledTraces(n, envs.Tracing{}), "tracing off")
	assert.InDelta(t, 1000, sampledTraces(1000, envs.Tracing{ReservoirPerSecond: 2}), 1e-6, "a reservoir above the rate traces all")
	assert.Equal(t, "tracing off", tracingHow(envs.Tracing{}))
}
