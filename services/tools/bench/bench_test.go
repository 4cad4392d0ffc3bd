package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cost"
)

func TestQuantileIsNearestRank(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	assert.Equal(t, 5.0, quantile(xs, 0.5))
	assert.Equal(t, 9.0, quantile(xs, 0.9))
	assert.Equal(t, 10.0, quantile(xs, 1))
	assert.Equal(t, 0.0, quantile(nil, 0.5))
	assert.Equal(t, []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}, xs, "the input is left alone")
}

func TestParseLoadReadsTheLoadTestReport(t *testing.T) {
	out := "requests 2400 (unique 2000), accepted 2000, duplicates 400, refused map[]\n" +
		"throughput 125.3 req/s over 19.154s; latency p50 124.2ms, p99 1.2s\n" +
		"lost 0, double-counted 3 minor units / 0 transactions\n"
	fig, err := parseLoad(out, 2000)
	require.NoError(t, err)
	assert.Equal(t, LoadFigures{Requests: 2000, Throughput: 125.3, P50Ms: 124.2, P99Ms: 1200, Lost: 0, Double: 3}, fig)
	_, err = parseLoad("nothing here", 1)
	assert.Error(t, err)
	assert.Equal(t, 0.5, toMs("500", "µs"))
}

func TestMarkdownHasEveryTable(t *testing.T) {
	r := Results{Mode: "quick", Launches: 2, Warm: 10, Sizes: map[string]int64{"ingest": 10_700_000}}
	r.Date = "2026-11-30"
	r.Functions = map[string]cost.FunctionFigures{"ingest": {InitMs: 14, WarmMs: 3}, "floor": {InitMs: 5, WarmMs: 1}}
	r.Reference = cost.FunctionFigures{InitMs: 300, RSSMB: 46, WarmMs: 9}
	r.Synth = []SynthTiming{{1, 5}, {2, 5.5}, {4, 6.5}}
	md := markdown(r, "COST")
	for _, want := range []string{
		"| ingest | 14.0 |", "| floor | 5.0 |", "2.80×", // INIT vs floor
		"| start (INIT; interpreter exec to imported), p50 ms | 14.0 | 300.0 | 0.05× |", "| warm handler (ms) | 2.00 | 9.00 | 0.22× |",
		"Increment per env: 0.50 s.", "COST", "![cold start and cost](bench.png)",
	} {
		assert.Contains(t, md, want)
	}
	assert.Equal(t, 1, strings.Count(md, "## Synthesis"))
}
