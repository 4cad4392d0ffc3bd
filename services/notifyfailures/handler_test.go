package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
	"github.com/payhook/payhook/services/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

type fixture struct {
	h     *Handler
	probe string
}

func newFixture(t *testing.T) fixture {
	topic, probe := env.NewTopicWithProbe(t)
	return fixture{h: &Handler{Store: env.NewStore(t), SNS: env.SNS, TopicARN: topic, Env: "test",
		Log: telemetry.NewLogger(io.Discard, "notify-failures"), Metrics: telemetry.NewMetrics(io.Discard, "payhook", nil)}, probe: probe}
}

func dead(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body,
		Attributes: map[string]string{"ApproximateReceiveCount": "3", "SentTimestamp": "1764057600000"}}
}

func alerts(t *testing.T, probe string, n int) []Alert {
	t.Helper()
	var out []Alert
	for _, m := range env.Receive(t, probe, n, 5*time.Second) {
		var a Alert
		require.NoError(t, json.Unmarshal([]byte(*m.Body), &a), *m.Body)
		out = append(out, a)
	}
	return out
}

func TestRecordsThenAlerts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := testenv.Insert(t, f.h.Store, testenv.Notification(t, "acme", "tx-dead", "4.20", "USD"), t0)
	require.NoError(t, f.h.Store.NoteError(ctx, "acme", "tx-dead", "account acme: throttled"))

	resp, err := f.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{dead("d1", m.Body()), dead("d2", "garbage{")}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)

	rec, err := f.h.Store.Get(ctx, "acme", "tx-dead")
	require.NoError(t, err)
	assert.Equal(t, store.StatusFailed, rec.Status)
	assert.Equal(t, "account acme: throttled", rec.FailureReason)
	assert.Equal(t, 3, rec.FailureCount)
	assert.Equal(t, m.Body(), rec.FailureBody)
	item, err := f.h.Store.GetFailureItem(ctx, "d2")
	require.NoError(t, err)
	require.NotNil(t, item)
	assert.Equal(t, "garbage{", item.Body, "an unparseable body is kept verbatim")

	got := alerts(t, f.probe, 2)
	require.Len(t, got, 2)
	byID := map[string]Alert{}
	for _, a := range got {
		byID[a.MessageID] = a
	}
	assert.Equal(t, "tx-dead", byID["d1"].TransactionID)
	assert.Equal(t, "acme", byID["d1"].Provider)
	assert.Equal(t, 3, byID["d1"].ReceiveCount)
	assert.Equal(t, rec.ReceivedAt, byID["d1"].FirstSeen)
	assert.True(t, byID["d1"].Replayable)
	assert.False(t, byID["d2"].Replayable)
	assert.Contains(t, byID["d2"].Reason, "unparseable")
}

func TestUnparseableDeadMessageIsTiedToItsTransaction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// GIVEN a transaction that was replayed, and its message now fails to parse: its
	// currency was withdrawn from ISO 4217 in the meantime (spelled here as a code that
	// does not exist), or it came from a newer version during a rollout
	m := testenv.Insert(t, f.h.Store, testenv.Notification(t, "acme", "tx-unparseable", "4.20", "USD"), t0)
	body := strings.Replace(m.Body(), `"currency":"USD"`, `"currency":"XBG"`, 1)
	newer := strings.Replace(testenv.Insert(t, f.h.Store, testenv.Notification(t, "acme", "tx-newer", "1", "USD"), t0).Body(),
		`"v":1`, `"v":2`, 1)
	require.NotEqual(t, m.Body(), body)
	require.Contains(t, newer, `"v":2`)

	// WHEN both die in the DLQ
	resp, err := f.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{dead("u1", body), dead("u2", newer), dead("u3", `{"provider":"acme","transaction_id":"tx-nowhere","x":1}`)}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)

	// THEN each transaction is marked failed with the body and the parse error, on the
	// FAILED list that replay reads
	for _, id := range []string{"tx-unparseable", "tx-newer"} {
		rec, err := f.h.Store.Get(ctx, "acme", id)
		require.NoError(t, err)
		assert.Equal(t, store.StatusFailed, rec.Status, id)
		assert.Contains(t, rec.FailureReason, "unparseable message", id)
	}
	rec, err := f.h.Store.Get(ctx, "acme", "tx-unparseable")
	require.NoError(t, err)
	assert.Equal(t, body, rec.FailureBody)
	failed, err := f.h.Store.Failed(ctx, 10)
	require.NoError(t, err)
	assert.Len(t, failed, 2)
	// AND a message naming no stored transaction is kept as a failure item
	item, err := f.h.Store.GetFailureItem(ctx, "u3")
	require.NoError(t, err)
	require.NotNil(t, item)
	assert.Contains(t, item.Reason, "TXN#acme#tx-nowhere is missing or accounted")

	// AND the alerts name the transactions and say they can be replayed
	byID := map[string]Alert{}
	for _, a := range alerts(t, f.probe, 3) {
		byID[a.MessageID] = a
	}
	assert.Equal(t, "tx-unparseable", byID["u1"].TransactionID)
	assert.True(t, byID["u1"].Replayable)
	assert.True(t, byID["u2"].Replayable)
	assert.False(t, byID["u3"].Replayable)
}

// TestSNSDownKeepsTheMessage stops the SNS emulator itself: the record is written, the
// publish fails, the message is reported for retry; after the outage the retry alerts.
func TestSNSDownKeepsTheMessage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := testenv.Insert(t, f.h.Store, testenv.Notification(t, "acme", "tx-sns", "4.20", "USD"), t0)
	env.QueueProc.Stop()
	resp, err := f.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{dead("d1", m.Body())}})
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 1, "an unpublished alert leaves the message in the DLQ")
	rec, err := f.h.Store.Get(ctx, "acme", "tx-sns")
	require.NoError(t, err)
	assert.Equal(t, store.StatusFailed, rec.Status, "the failure is recorded before the publish")

	require.NoError(t, env.QueueProc.Restart(ctx))
	topic, probe := env.NewTopicWithProbe(t)
	f.h.TopicARN = topic
	resp, err = f.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{dead("d1", m.Body())}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)
	got := alerts(t, probe, 1)
	require.Len(t, got, 1)
	assert.Equal(t, "tx-sns", got[0].TransactionID)
}

func TestReplayPutsFailuresBackAndAccountingAcceptsThem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	q := env.NewQueues(t, 3, 30*time.Second)
	m := testenv.Insert(t, f.h.Store, testenv.Notification(t, "acme", "tx-replay", "4.20", "USD"), t0)
	accepted := testenv.Insert(t, f.h.Store, testenv.Notification(t, "acme", "tx-accounted", "4.20", "USD"), t0)
	_, err := f.h.Store.Account(ctx, accepted)
	require.NoError(t, err)

	_, err = f.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{dead("d1", m.Body()), dead("d2", accepted.Body())}})
	require.NoError(t, err)
	rec, err := f.h.Store.Get(ctx, "acme", "tx-accounted")
	require.NoError(t, err)
	assert.Equal(t, store.StatusAccounted, rec.Status, "a dead duplicate never un-accounts a transaction")

	r := &relay.Relay{Store: f.h.Store, Queue: env.SQS, QueueURL: q.URL}
	res, err := r.Replay(ctx, 100)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{Found: 1, Sent: 1}, res)
	res, err = r.Replay(ctx, 100)
	require.NoError(t, err)
	assert.Equal(t, 0, res.Found, "a replayed failure is off the list")

	msgs := env.Receive(t, q.URL, 1, 5*time.Second)
	require.Len(t, msgs, 1)
	replayed, err := notification.ParseMessage(*msgs[0].Body)
	require.NoError(t, err)
	assert.Equal(t, m, replayed)
	out, err := f.h.Store.Account(ctx, replayed)
	require.NoError(t, err)
	assert.Equal(t, store.Accounted, out)
}
