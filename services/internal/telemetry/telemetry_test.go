package telemetry

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsWriteEMF checks the record CloudWatch turns into a metric: the namespace, one
// dimension set naming every dimension present at the top level, the metric with its unit,
// and the value under the metric's name.
func TestMetricsWriteEMF(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics(&buf, "payhook", map[string]string{"Service": "ingest", "Env": "dev"})
	m.now = func() time.Time { return time.UnixMilli(1764072000000) }
	m.Count("Rejected", 2, map[string]string{"Reason": "unavailable"})
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	aws := rec["_aws"].(map[string]any)
	assert.EqualValues(t, 1764072000000, aws["Timestamp"])
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, "payhook", cw["Namespace"])
	assert.Equal(t, []any{[]any{"Env", "Reason", "Service"}}, cw["Dimensions"])
	assert.Equal(t, []any{map[string]any{"Name": "Rejected", "Unit": "Count"}}, cw["Metrics"])
	assert.EqualValues(t, 2, rec["Rejected"])
	for k, v := range map[string]string{"Env": "dev", "Reason": "unavailable", "Service": "ingest"} {
		assert.Equal(t, v, rec[k])
	}
	assert.Equal(t, byte('\n'), buf.Bytes()[buf.Len()-1], "one record per line")

	var none *Metrics
	none.Count("Ignored", 1, nil) // a nil Metrics is a no-op, never a panic
}

// TestCountsShareOneRecord: several counts of one invocation are one EMF record (one log
// line), each metric declared with its unit and its value at the top level.
func TestCountsShareOneRecord(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics(&buf, "payhook", map[string]string{"Service": "accounting"})
	m.Counts(map[string]int{"Accounted": 9, "Redelivered": 1, "AccountingFailed": 0}, nil)
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")), "one line")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	cw := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{
		map[string]any{"Name": "Accounted", "Unit": "Count"},
		map[string]any{"Name": "AccountingFailed", "Unit": "Count"},
		map[string]any{"Name": "Redelivered", "Unit": "Count"},
	}, cw["Metrics"])
	assert.EqualValues(t, 9, rec["Accounted"])
	assert.EqualValues(t, 1, rec["Redelivered"])
	assert.EqualValues(t, 0, rec["AccountingFailed"])
	buf.Reset()
	m.Counts(nil, nil)
	assert.Zero(t, buf.Len(), "nothing to count, nothing written")
}

// TestALogLineCanBeTheMetric: a JSON log line with CountAttrs is an EMF record CloudWatch
// reads as the metric, beside the line's own message and attributes.
func TestALogLineCanBeTheMetric(t *testing.T) {
	var logs bytes.Buffer
	m := NewMetrics(io.Discard, "payhook", map[string]string{"Service": "ingest", "Env": "prod"})
	m.now = func() time.Time { return time.UnixMilli(1764072000000) }
	NewLogger(&logs, "ingest").Info("webhook accepted", append([]any{"status", 200}, m.CountAttrs("Accepted", 1, nil)...)...)
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("\n")), "one line")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &rec))
	assert.Equal(t, "webhook accepted", rec["msg"])
	cw := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{[]any{"Env", "Service"}}, cw["Dimensions"])
	assert.Equal(t, []any{map[string]any{"Name": "Accepted", "Unit": "Count"}}, cw["Metrics"])
	assert.EqualValues(t, 1, rec["Accepted"])
	assert.Equal(t, "prod", rec["Env"])
	assert.Equal(t, "ingest", rec["Service"])
	var none *Metrics
	assert.Nil(t, none.CountAttrs("Accepted", 1, nil))
}
