package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/store"
)

// TestQueueOutageLosesNothing takes the SQS emulator down while webhooks arrive. Senders
// see 503 (never a 200 that was not enqueued); their notifications are stored on the
// outbox, and after the queue comes back the reconciler's sweep delivers every one of them
// to accounting, although no sender retries. The emulator comes back empty, so the message
// of the webhook answered 200 before the outage is gone too: it is still on the outbox (not
// accounted), and the same sweep sends it again.
func TestQueueOutageLosesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	code, _ := call(t, f.h, request(t, "acme", flat("before", "1", "USD", "acme")))
	require.Equal(t, 200, code)

	env.QueueProc.Stop()
	ids := []string{"down-1", "down-2", "down-3"}
	for _, id := range ids {
		code, a := call(t, f.h, request(t, "stripe", flat(id, `"2.00"`, "USD", "stripe")))
		assert.Equal(t, 503, code, "while the queue is down the sender is told to retry")
		assert.Equal(t, "unavailable", a.Error)
	}

	require.NoError(t, env.QueueProc.Restart(ctx))
	// The emulator restarts empty, as after a real outage of a non-durable broker;
	// re-create the queues under the same names (and so the same URLs).
	q := env.NewQueuesNamed(t, f.queues.Name, 3, 30*time.Second)
	require.Equal(t, f.queues.URL, q.URL)

	r := &relay.Relay{Store: f.store, Queue: env.SQS, QueueURL: q.URL, Now: func() time.Time { return now.Add(time.Minute) }}
	res, err := r.Outbox(ctx, 30*time.Second, 100)
	require.NoError(t, err)
	assert.Equal(t, relay.Result{Found: 4, Sent: 4}, res)

	msgs := env.Receive(t, q.URL, 10, 5*time.Second)
	var got []string
	for _, m := range msgs {
		msg, err := notification.ParseMessage(*m.Body)
		require.NoError(t, err)
		got = append(got, msg.TransactionID)
		out, err := f.store.Account(ctx, msg)
		require.NoError(t, err)
		assert.Equal(t, store.Accounted, out)
	}
	assert.ElementsMatch(t, append(ids, "before"), got)
	res, err = r.Outbox(ctx, 30*time.Second, 100)
	require.NoError(t, err)
	assert.Zero(t, res.Found, "the outbox is empty afterwards")
}
