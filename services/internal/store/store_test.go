package store_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestInsertIsIdempotentAndDetectsConflicts(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	n := testenv.Notification(t, "acme", "tx-1", "12.34", "USD")
	rec := store.NewTransaction(n, n.Hash(), "req-1", t0)

	out, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	assert.Equal(t, store.Inserted, out)

	out, existing, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	assert.Equal(t, store.Duplicate, out)
	assert.Equal(t, int64(1234), existing.AmountMinor)
	assert.True(t, existing.Pending(), "a record not yet confirmed on the queue is on the outbox")

	other := testenv.Notification(t, "acme", "tx-1", "12.35", "USD")
	out, existing, err = st.Insert(ctx, store.NewTransaction(other, other.Hash(), "req-2", t0))
	require.NoError(t, err)
	assert.Equal(t, store.Conflict, out)
	assert.Equal(t, n.Hash(), existing.PayloadHash, "the first payload wins")
}

func TestConcurrentInsertsWriteOneRecord(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	n := testenv.Notification(t, "acme", "tx-concurrent", "5", "JPY")
	var wg sync.WaitGroup
	outcomes := make([]store.InsertOutcome, 10)
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, _, err := st.Insert(ctx, store.NewTransaction(n, n.Hash(), "req", t0))
			assert.NoError(t, err)
			outcomes[i] = o
		}()
	}
	wg.Wait()
	inserted := 0
	for _, o := range outcomes {
		if o == store.Inserted {
			inserted++
		} else {
			assert.Equal(t, store.Duplicate, o)
		}
	}
	assert.Equal(t, 1, inserted)
	out, err := env.DDB.Scan(ctx, scanInput(st.Table))
	require.NoError(t, err)
	assert.Equal(t, int32(1), out.Count)
}

func TestAccountExactlyOnce(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	st.Now = func() time.Time { return t0.Add(time.Minute) }
	a := testenv.Notification(t, "acme", "tx-a", "10.05", "EUR")
	b := testenv.Notification(t, "acme", "tx-b", "0.95", "EUR")
	for _, n := range []notification.Notification{a, b} {
		_, _, err := st.Insert(ctx, store.NewTransaction(n, n.Hash(), "r", t0))
		require.NoError(t, err)
	}
	ma := notification.NewMessage(a, a.Hash(), t0)
	out, err := st.Account(ctx, ma)
	require.NoError(t, err)
	assert.Equal(t, store.Accounted, out)
	out, err = st.Account(ctx, ma)
	require.NoError(t, err)
	assert.Equal(t, store.AlreadyAccounted, out, "redelivery is a no-op")
	_, err = st.Account(ctx, notification.NewMessage(b, b.Hash(), t0))
	require.NoError(t, err)

	totals, err := st.DailyTotals(ctx, "acme", "2026-11-25")
	require.NoError(t, err)
	assert.Equal(t, int64(1100), totals["EUR"].TotalMinor)
	assert.Equal(t, int64(2), totals["EUR"].Count)

	rec, err := st.Get(ctx, "acme", "tx-a")
	require.NoError(t, err)
	assert.Equal(t, store.StatusAccounted, rec.Status)
	assert.False(t, rec.Pending(), "accounting takes the record off the outbox")
}

func TestAccountRejectsUnknownMismatchedAndOverflow(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	n := testenv.Notification(t, "acme", "tx-x", "1.00", "USD")

	_, err := st.Account(ctx, notification.NewMessage(n, n.Hash(), t0))
	require.ErrorIs(t, err, store.ErrNotFound)

	_, _, err = st.Insert(ctx, store.NewTransaction(n, n.Hash(), "r", t0))
	require.NoError(t, err)
	forged := notification.NewMessage(n, n.Hash(), t0)
	forged.AmountMinor = 999
	_, err = st.Account(ctx, forged)
	require.ErrorIs(t, err, store.ErrMismatch)

	// A total one unit below MaxInt64 cannot take another 100.
	_, err = env.DDB.PutItem(ctx, totalItem(st.Table, "acme", "2026-11-25", "USD", math.MaxInt64-1))
	require.NoError(t, err)
	_, err = st.Account(ctx, notification.NewMessage(n, n.Hash(), t0))
	require.ErrorIs(t, err, store.ErrOverflow)
	rec, err := st.Get(ctx, "acme", "tx-x")
	require.NoError(t, err)
	assert.Equal(t, store.StatusReceived, rec.Status, "the status change rolls back with the total")
}

func TestOutboxListsOnlyPendingAndOld(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	for i, id := range []string{"p1", "p2", "p3"} {
		n := testenv.Notification(t, "acme", id, "1", "USD")
		_, _, err := st.Insert(ctx, store.NewTransaction(n, n.Hash(), "r", t0.Add(time.Duration(i)*time.Minute)))
		require.NoError(t, err)
	}
	require.NoError(t, st.MarkEnqueued(ctx, "acme", "p1"))
	pending, err := st.PendingOutbox(ctx, t0.Add(90*time.Second), 100)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "p2", pending[0].TransactionID)
}

func TestPendingOutboxSharesTheLimitAcrossShards(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	for i := range 40 {
		testenv.Insert(t, st, testenv.Notification(t, "acme", fmt.Sprintf("s-%02d", i), "1", "USD"), t0)
	}
	// GIVEN 40 pending records spread over the shards by key hash
	all, err := st.PendingOutbox(ctx, t0.Add(time.Hour), 1000)
	require.NoError(t, err)
	require.Len(t, all, 40)
	shards := map[string]int{}
	for _, r := range all {
		shards[r.GSI1PK]++
	}
	require.Len(t, shards, store.OutboxShards, "every shard holds some of the 40")
	// WHEN the sweep may take only one per shard
	some, err := st.PendingOutbox(ctx, t0.Add(time.Hour), store.OutboxShards)
	require.NoError(t, err)
	// THEN it takes one from each shard, not all from the first
	require.Len(t, some, store.OutboxShards)
	seen := map[string]bool{}
	for _, r := range some {
		seen[r.GSI1PK] = true
	}
	assert.Len(t, seen, store.OutboxShards)
}

func TestRecordFailureAndReplayCycle(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	n := testenv.Notification(t, "acme", "tx-dead", "7.00", "GBP")
	_, _, err := st.Insert(ctx, store.NewTransaction(n, n.Hash(), "r", t0))
	require.NoError(t, err)
	require.NoError(t, st.NoteError(ctx, "acme", "tx-dead", "boom"))
	m := notification.NewMessage(n, n.Hash(), t0)
	fr, err := st.RecordFailure(ctx, store.DeadMessage{MessageID: "m1", Body: m.Body(), Parsed: &m, ReceiveCount: 3})
	require.NoError(t, err)
	assert.True(t, fr.OnTransaction)
	assert.Equal(t, "boom", fr.Reason)

	failed, err := st.Failed(ctx, 10)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Equal(t, m.Body(), failed[0].FailureBody)
	assert.Equal(t, 3, failed[0].FailureCount)

	require.NoError(t, st.MarkReplayed(ctx, "acme", "tx-dead"))
	failed, err = st.Failed(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, failed)
	out, err := st.Account(ctx, m)
	require.NoError(t, err)
	assert.Equal(t, store.Accounted, out, "a replayed transaction is accountable")

	// Unparseable bodies go to a FAILURE item, verbatim.
	fr, err = st.RecordFailure(ctx, store.DeadMessage{MessageID: "m2", Body: "not json", ParseError: "unparseable"})
	require.NoError(t, err)
	assert.False(t, fr.OnTransaction)
	item, err := st.GetFailureItem(ctx, "m2")
	require.NoError(t, err)
	require.NotNil(t, item)
	assert.Equal(t, "not json", item.Body)
}

// TestConcurrentAccountingOnOneTotal: twenty transactions of one provider, currency and day
// accounted at once all land (conflicting transactions on the shared total are retried).
func TestConcurrentAccountingOnOneTotal(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	var msgs []notification.Message
	for i := 0; i < 20; i++ {
		n := testenv.Notification(t, "acme", "c-"+string(rune('a'+i)), "1.01", "USD")
		_, _, err := st.Insert(ctx, store.NewTransaction(n, n.Hash(), "r", t0))
		require.NoError(t, err)
		msgs = append(msgs, notification.NewMessage(n, n.Hash(), t0))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = st.Account(ctx, m) }()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	totals, err := st.DailyTotals(ctx, "acme", "2026-11-25")
	require.NoError(t, err)
	assert.Equal(t, int64(20*101), totals["USD"].TotalMinor)
	assert.Equal(t, int64(20), totals["USD"].Count)
}

func TestReplayRaces(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	n := testenv.Notification(t, "acme", "tx-race", "3", "USD")
	_, _, err := st.Insert(ctx, store.NewTransaction(n, n.Hash(), "r", t0))
	require.NoError(t, err)
	m := notification.NewMessage(n, n.Hash(), t0)
	_, err = st.RecordFailure(ctx, store.DeadMessage{MessageID: "d", Body: m.Body(), Parsed: &m, ReceiveCount: 4})
	require.NoError(t, err)
	// The replayed message can be accounted before the record is marked replayed...
	out, err := st.Account(ctx, m)
	require.NoError(t, err)
	assert.Equal(t, store.Accounted, out)
	// ...and marking it then is "no longer failed", which replay skips.
	require.ErrorIs(t, st.MarkReplayed(ctx, "acme", "tx-race"), store.ErrNotFailed)
	// A dead duplicate never moves an accounted transaction back to failed.
	fr, err := st.RecordFailure(ctx, store.DeadMessage{MessageID: "d2", Body: m.Body(), Parsed: &m, ReceiveCount: 4})
	require.NoError(t, err)
	assert.False(t, fr.OnTransaction)
	rec, err := st.Get(ctx, "acme", "tx-race")
	require.NoError(t, err)
	assert.Equal(t, store.StatusAccounted, rec.Status)
}
