// Package telemetry holds the services' structured logging (log/slog, JSON) and their
// CloudWatch Embedded Metric Format (EMF) metrics.
//
// Logs carry the request id, transaction id and provider as attributes. Nothing here
// logs a body, a signature or a secret: callers pass identifiers, never payloads.
package telemetry

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// NewLogger returns a JSON slog logger writing to w, tagged with the service name.
func NewLogger(w io.Writer, service string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})).With("service", service)
}

// Metrics writes CloudWatch EMF records: one JSON line per Emit, which CloudWatch Logs turns
// into metrics in Namespace without any API call from the function.
type Metrics struct {
	// Namespace is the CloudWatch namespace, e.g. "payhook".
	Namespace string
	// Dimensions are added to every metric (e.g. service and env).
	Dimensions map[string]string

	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// NewMetrics returns a Metrics writing to w.
func NewMetrics(w io.Writer, namespace string, dims map[string]string) *Metrics {
	return &Metrics{Namespace: namespace, Dimensions: dims, out: w, now: time.Now}
}

// Count emits one count metric name with value n, plus extra dimensions (e.g. reason).
func (m *Metrics) Count(name string, n int, extra map[string]string) {
	m.emit(name, n, "Count", extra)
}

// Counts emits several count metrics with the same dimensions (the Metrics' and extra) in
// one EMF record: one log line instead of one per metric.
func (m *Metrics) Counts(values map[string]int, extra map[string]string) {
	vals := make(map[string]any, len(values))
	for k, v := range values {
		vals[k] = v
	}
	m.emitAll(vals, "Count", extra)
}

// CountAttrs returns the slog attributes that make a JSON log line also an EMF record of
// the count name = n (the _aws metadata, the value and the dimensions at the top level), so
// one line is both the request's log and its metric. It returns nil on a nil Metrics.
func (m *Metrics) CountAttrs(name string, n int, extra map[string]string) []any {
	if m == nil {
		return nil
	}
	rec := m.record(map[string]any{name: n}, "Count", extra)
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, 2*len(rec))
	for _, k := range keys {
		attrs = append(attrs, k, rec[k])
	}
	return attrs
}

// Gauge emits one metric name with value v in unit (a CloudWatch unit such as "Seconds"),
// plus extra dimensions.
func (m *Metrics) Gauge(name string, v float64, unit string, extra map[string]string) {
	m.emit(name, v, unit, extra)
}

func (m *Metrics) emit(name string, value any, unit string, extra map[string]string) {
	m.emitAll(map[string]any{name: value}, unit, extra)
}

// emitAll writes one EMF record holding every metric of values, all in unit.
func (m *Metrics) emitAll(values map[string]any, unit string, extra map[string]string) {
	if m == nil || len(values) == 0 {
		return
	}
	rec := m.record(values, unit, extra)
	line, err := json.Marshal(rec)
	if err != nil {
		return // strings and numbers always marshal
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(m.out, "%s\n", line)
}

// record is the EMF record of values (all in unit) with the Metrics' and extra dimensions.
func (m *Metrics) record(values map[string]any, unit string, extra map[string]string) map[string]any {
	dims := make(map[string]string, len(m.Dimensions)+len(extra))
	for k, v := range m.Dimensions {
		dims[k] = v
	}
	for k, v := range extra {
		dims[k] = v
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	metrics := make([]map[string]string, 0, len(names))
	for _, name := range names {
		metrics = append(metrics, map[string]string{"Name": name, "Unit": unit})
	}
	rec := map[string]any{
		"_aws": map[string]any{
			"Timestamp": m.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  m.Namespace,
				"Dimensions": [][]string{keys},
				"Metrics":    metrics,
			}},
		},
	}
	for name, v := range values {
		rec[name] = v
	}
	for k, v := range dims {
		rec[k] = v
	}
	return rec
}
