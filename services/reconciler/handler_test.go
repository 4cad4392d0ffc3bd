package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/telemetry"
	"github.com/payhook/payhook/services/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func TestSweepSendsOnlyStrandedRecords(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	q := env.NewQueues(t, 3, 30*time.Second)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for id, at := range map[string]time.Time{"old": now.Add(-5 * time.Minute), "fresh": now.Add(-5 * time.Second)} {
		testenv.Insert(t, st, testenv.Notification(t, "acme", id, "1", "USD"), at)
	}
	var metrics bytes.Buffer
	h := &Handler{
		Relay: &relay.Relay{Store: st, Queue: env.SQS, QueueURL: q.URL, Now: func() time.Time { return now }},
		Grace: 30 * time.Second, Limit: 100,
		Log: telemetry.NewLogger(io.Discard, "reconciler"), Metrics: telemetry.NewMetrics(&metrics, "payhook", nil),
	}
	res, err := h.Handle(ctx)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{Found: 1, Sent: 1}, res, "a record inside the grace period is left to its ingest request")
	assert.Contains(t, metrics.String(), `"OutboxRelayed":1`)
	msgs := env.Receive(t, q.URL, 2, 3*time.Second)
	require.Len(t, msgs, 1)
	assert.Contains(t, *msgs[0].Body, `"transaction_id":"old"`)

	h.Relay.QueueURL = q.URL + "-gone"
	h.Relay.Now = func() time.Time { return now.Add(time.Hour) }
	_, err = h.Handle(ctx)
	require.Error(t, err, "a failed sweep is an invocation error, so it alarms and retries")
	rec, err := st.Get(ctx, "acme", "fresh")
	require.NoError(t, err)
	assert.True(t, rec.Pending(), "and the record stays on the outbox")
}

func TestConfigNamesTheMissingVariable(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("QUEUE_URL", "") // restored after the test
	os.Unsetenv("QUEUE_URL")
	var cfg Config
	err := config.Load("reconciler", &cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "QUEUE_URL")
	t.Setenv("QUEUE_URL", "q")
	t.Setenv("OUTBOX_GRACE", "soon")
	err = config.Load("reconciler", &cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OUTBOX_GRACE")
}
