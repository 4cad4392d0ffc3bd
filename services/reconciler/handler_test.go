package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/store"
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
		Grace: 30 * time.Second, UnaccountedAfter: time.Hour, Limit: 100,
		Log: telemetry.NewLogger(io.Discard, "reconciler"), Metrics: telemetry.NewMetrics(&metrics, "payhook", nil),
		Now: func() time.Time { return now },
	}
	res, err := h.Handle(ctx)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{Found: 1, Sent: 1}, res.Outbox, "a record inside the grace period is left to its ingest request")
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

// clocked is a store and queues on a clock the test moves: the store's Now reads *clock,
// which starts at noon on 2026-11-25.
func clocked(t *testing.T) (*store.Store, testenv.Queues, *time.Time) {
	st := env.NewStore(t)
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return clock }
	return st, env.NewQueues(t, 3, 30*time.Second), &clock
}

func TestUnaccountedRecordsAreSentAgain(t *testing.T) {
	ctx := context.Background()
	st, q, c := clocked(t)
	now := *c
	// GIVEN three records whose sends ingest confirmed: two 2 h ago, one 10 min ago; the
	// queue lost every message (a purge, say), and one of the old ones was accounted
	for id, at := range map[string]time.Time{"lost": now.Add(-2 * time.Hour), "done": now.Add(-2 * time.Hour), "recent": now.Add(-10 * time.Minute)} {
		*c = at
		testenv.Insert(t, st, testenv.Notification(t, "acme", id, "1", "USD"), at)
		require.NoError(t, st.MarkEnqueued(ctx, "acme", id))
	}
	*c = now
	done, err := st.Get(ctx, "acme", "done")
	require.NoError(t, err)
	_, err = st.Account(ctx, done.Message())
	require.NoError(t, err)

	var metrics bytes.Buffer
	h := &Handler{
		Relay: &relay.Relay{Store: st, Queue: env.SQS, QueueURL: q.URL, Now: func() time.Time { return *c }},
		Grace: 30 * time.Second, UnaccountedAfter: 30 * time.Minute, Limit: 100,
		Log: telemetry.NewLogger(io.Discard, "reconciler"), Metrics: telemetry.NewMetrics(&metrics, "payhook", nil),
		Now: func() time.Time { return *c },
	}
	// WHEN the reconciler runs
	sw, err := h.Handle(ctx)
	require.NoError(t, err)

	// THEN only the lost, unaccounted record last sent before the bound is sent again
	assert.Equal(t, relay.Result{Found: 1, Sent: 1}, sw.Unaccounted)
	msgs := env.Receive(t, q.URL, 3, 3*time.Second)
	require.Len(t, msgs, 1)
	assert.Contains(t, *msgs[0].Body, `"transaction_id":"lost"`)
	rec, err := st.Get(ctx, "acme", "lost")
	require.NoError(t, err)
	assert.Equal(t, 1, rec.ResendCount)
	// AND the oldest wait since a send is reported: "recent", sent 10 min ago ("lost" was
	// just sent again)
	assert.Equal(t, 600.0, sw.OldestUnaccountedSeconds)
	assert.Contains(t, metrics.String(), `"OldestUnaccountedAgeSeconds":600`)
	assert.Contains(t, metrics.String(), `"Unit":"Seconds"`)

	// WHEN it runs again a minute later, THEN the re-sent record is left alone for another bound
	*c = now.Add(time.Minute)
	sw, err = h.Handle(ctx)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{}, sw.Unaccounted)
	// AND once the bound has passed since the re-send, both unaccounted records are sent
	*c = now.Add(31 * time.Minute)
	sw, err = h.Handle(ctx)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{Found: 2, Sent: 2}, sw.Unaccounted)
	var bodies []string
	for _, m := range env.Receive(t, q.URL, 3, 3*time.Second) {
		bodies = append(bodies, *m.Body)
	}
	assert.Len(t, bodies, 2)
	assert.Contains(t, strings.Join(bodies, " "), `"transaction_id":"lost"`)
	assert.Contains(t, strings.Join(bodies, " "), `"transaction_id":"recent"`)
	rec, err = st.Get(ctx, "acme", "lost")
	require.NoError(t, err)
	assert.Equal(t, 2, rec.ResendCount)

	// WHEN accounting takes the messages, THEN nothing is waiting any more
	for _, id := range []string{"lost", "recent"} {
		r, err := st.Get(ctx, "acme", id)
		require.NoError(t, err)
		_, err = st.Account(ctx, r.Message())
		require.NoError(t, err)
	}
	*c = now.Add(3 * time.Hour)
	sw, err = h.Handle(ctx)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{}, sw.Unaccounted)
	assert.Zero(t, sw.OldestUnaccountedSeconds)
}

func TestAStrandedRecordIsNotSentTwiceWhenTheOutboxSendsIt(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	// GIVEN a record stranded on the outbox for 2 h (the queue was down), sent now
	testenv.Insert(t, st, testenv.Notification(t, "acme", "stranded", "1", "USD"), now.Add(-2*time.Hour))
	st.Now = func() time.Time { return now }
	require.NoError(t, st.MarkEnqueued(ctx, "acme", "stranded"))
	// THEN it is not due for a re-send until the bound has passed since that send
	got, err := st.Unaccounted(ctx, now.Add(-30*time.Minute), 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = st.Unaccounted(ctx, now.Add(time.Second), 10)
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

func TestOldestAgeIsReportedWhenASweepFails(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testenv.Insert(t, st, testenv.Notification(t, "acme", "waiting", "1", "USD"), now.Add(-time.Hour))
	var metrics bytes.Buffer
	h := &Handler{
		Relay: &relay.Relay{Store: st, Queue: env.SQS, QueueURL: "http://127.0.0.1:1/000000000000/gone", Now: func() time.Time { return now }},
		Grace: 30 * time.Second, UnaccountedAfter: 30 * time.Minute, Limit: 100,
		Log: telemetry.NewLogger(io.Discard, "reconciler"), Metrics: telemetry.NewMetrics(&metrics, "payhook", nil),
		Now: func() time.Time { return now },
	}
	_, err := h.Handle(ctx)
	require.Error(t, err, "the outbox sweep cannot send")
	assert.Contains(t, metrics.String(), `"OldestUnaccountedAgeSeconds":3600`, "the age is reported anyway, so the alarm does not go quiet")
}

func TestReplayedRecordIsWatchedToo(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	// GIVEN a record that died in the DLQ and was replayed
	msg := testenv.Insert(t, st, testenv.Notification(t, "acme", "replayed", "1", "USD"), now.Add(-3*time.Hour))
	require.NoError(t, st.MarkEnqueued(ctx, "acme", "replayed"))
	_, err := st.RecordFailure(ctx, store.DeadMessage{MessageID: "m1", Body: msg.Body(), Parsed: &msg, ReceiveCount: 3})
	require.NoError(t, err)
	oldest, err := st.OldestUnaccounted(ctx)
	require.NoError(t, err)
	assert.True(t, oldest.IsZero(), "a failed record waits for replay, not for accounting")
	require.NoError(t, st.MarkReplayed(ctx, "acme", "replayed"))

	// THEN it is waiting for accounting from the time of the replay
	oldest, err = st.OldestUnaccounted(ctx)
	require.NoError(t, err)
	assert.Equal(t, now, oldest)
	got, err := st.Unaccounted(ctx, now.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "replayed", got[0].TransactionID)
}

func TestConfigRefusesSettingsThatDoNothing(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("QUEUE_URL", "q")
	t.Setenv("UNACCOUNTED_AFTER", "30m")
	var cfg Config
	require.NoError(t, config.Load("reconciler", &cfg))
	assert.Equal(t, 30*time.Minute, cfg.UnaccountedAfter)
	for name, bad := range map[string]string{"OUTBOX_LIMIT": "0", "UNACCOUNTED_AFTER": "1s", "OUTBOX_GRACE": "-1s"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			err := config.Load("reconciler", &cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), name)
		})
	}
	t.Setenv("OUTBOX_LIMIT", "-5")
	assert.ErrorContains(t, config.Load("reconciler", &cfg), "OUTBOX_LIMIT: must be at least 1")
}

func TestConfigNamesTheMissingVariable(t *testing.T) {
	t.Setenv("UNACCOUNTED_AFTER", "30m")
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

// queueDepth is the queue's visible and in-flight messages.
func queueDepth(t *testing.T, url string) int {
	t.Helper()
	out, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	require.NoError(t, err)
	n := 0
	for _, v := range out.Attributes {
		c, err := strconv.Atoi(v)
		require.NoError(t, err)
		n += c
	}
	return n
}

// TestABacklogIsNotMultiplied stops the consumer for three times the reconciler's grace
// period while the reconciler runs every minute: each stored webhook is sent by ingest and
// at most once more by the reconciler (it moves to the in-flight list, sent again only after
// UnaccountedAfter), so the queue holds at most two messages per webhook however long the
// consumer stays stopped. When the consumer comes back, every webhook is accounted once.
func TestABacklogIsNotMultiplied(t *testing.T) {
	ctx := context.Background()
	st, q, c := clocked(t)
	t0 := *c
	const n = 20
	// GIVEN n webhooks stored and sent by ingest, and no consumer
	for i := range n {
		m := testenv.Insert(t, st, testenv.Notification(t, "acme", fmt.Sprintf("backlog-%02d", i), "1.00", "USD"), t0)
		rec, err := st.Get(ctx, "acme", m.TransactionID)
		require.NoError(t, err)
		require.NoError(t, relay.Send(ctx, env.SQS, q.URL, rec))
	}
	grace := 2 * time.Minute
	h := &Handler{
		Relay: &relay.Relay{Store: st, Queue: env.SQS, QueueURL: q.URL, Now: func() time.Time { return *c }},
		Grace: grace, UnaccountedAfter: time.Hour, Limit: 500,
		Log: telemetry.NewLogger(io.Discard, "reconciler"), Metrics: telemetry.NewMetrics(io.Discard, "payhook", nil),
		Now: func() time.Time { return *c },
	}
	// WHEN the reconciler runs every minute for 3 × its grace period
	var depths []int
	for *c = t0.Add(time.Minute); !c.After(t0.Add(3 * grace)); *c = c.Add(time.Minute) {
		_, err := h.Handle(ctx)
		require.NoError(t, err)
		depths = append(depths, queueDepth(t, q.URL))
	}
	// THEN the queue never holds more than two messages per webhook
	t.Logf("queue depth after each minute's run: %v", depths)
	for _, d := range depths {
		assert.LessOrEqual(t, d, 2*n, "ingest's send and at most one re-send each")
	}
	assert.Equal(t, 2*n, depths[len(depths)-1], "every webhook re-sent once after the grace period, and only once")

	// AND when the consumer comes back, each is accounted once
	msgs := env.Receive(t, q.URL, 2*n, 20*time.Second)
	require.Len(t, msgs, 2*n)
	var batch []notification.Message
	for _, m := range msgs {
		msg, err := notification.ParseMessage(*m.Body)
		require.NoError(t, err)
		batch = append(batch, msg)
	}
	accounted, again := 0, 0
	for start := 0; start < len(batch); start += 10 {
		for _, r := range st.AccountBatch(ctx, batch[start:min(start+10, len(batch))]) {
			require.NoError(t, r.Err)
			switch r.Outcome {
			case store.Accounted:
				accounted++
			case store.AlreadyAccounted:
				again++
			}
		}
	}
	assert.Equal(t, n, accounted)
	assert.Equal(t, n, again, "the re-sent copies find their records accounted")
	totals, err := st.DailyTotals(ctx, "acme", t0.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(n*100), totals["USD"].TotalMinor)
	assert.Equal(t, int64(n), totals["USD"].Count)
}
