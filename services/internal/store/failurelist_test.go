package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/testenv"
)

// seedFailures stores, on a fresh table, one record of each kind Failures tells apart, each
// failure a second after the previous: a transaction failed once, one replayed and failing
// again in flight, one failed again after a replay, one merely in flight, one accounted, and
// two dead messages tied to no transaction (not JSON; naming a missing transaction).
func seedFailures(t *testing.T) *store.Store {
	ctx := context.Background()
	st := env.NewStore(t)
	clock := t0
	st.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	msg := func(id, amount, cur string) notification.Message {
		return testenv.Insert(t, st, testenv.Notification(t, "acme", id, amount, cur), t0)
	}
	dead := func(id string, m notification.Message, receives int) {
		_, err := st.RecordFailure(ctx, store.DeadMessage{MessageID: id, Body: m.Body(), Parsed: &m, ReceiveCount: receives})
		require.NoError(t, err)
	}

	once := msg("tx-once", "12.34", "USD")
	require.NoError(t, st.NoteError(ctx, "acme", "tx-once", "daily total would overflow"))
	dead("m-once", once, 3)

	inFlight := msg("tx-replayed", "5", "JPY")
	dead("m-replayed", inFlight, 3)
	require.NoError(t, st.MarkReplayed(ctx, "acme", "tx-replayed"))
	require.NoError(t, st.NoteError(ctx, "acme", "tx-replayed", "still failing"))

	again := msg("tx-again", "1.000", "BHD")
	dead("m-again-1", again, 3)
	require.NoError(t, st.MarkReplayed(ctx, "acme", "tx-again"))
	require.NoError(t, st.NoteError(ctx, "acme", "tx-again", "second cause"))
	dead("m-again-2", again, 4)

	msg("tx-fine", "1.00", "EUR")
	require.NoError(t, st.MarkEnqueued(ctx, "acme", "tx-fine"))
	accounted := msg("tx-accounted", "2.00", "EUR")
	_, err := st.Account(ctx, accounted)
	require.NoError(t, err)

	_, err = st.RecordFailure(ctx, store.DeadMessage{MessageID: "m-junk", Body: "not json", ParseError: "invalid character", ReceiveCount: 5})
	require.NoError(t, err)
	ghost := notification.NewMessage(testenv.Notification(t, "ghost", "tx-missing", "3.00", "GBP"), "h", t0)
	dead("m-ghost", ghost, 2)
	return st
}

func keys(fs []store.Failure) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Key
	}
	return out
}

// The FAILED list, with each failure's reason, receive count and replay history, oldest
// failure first; replayed and unlinked failures only when asked for.
func TestFailuresListsTheFailedWithTheirReasons(t *testing.T) {
	ctx := context.Background()
	st := seedFailures(t)

	got, err := st.Failures(ctx, store.FailureQuery{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, []string{store.TxnPK("acme", "tx-once"), store.TxnPK("acme", "tx-again")}, keys(got))
	once := got[0]
	assert.Equal(t, store.Failure{
		Key: store.TxnPK("acme", "tx-once"), Provider: "acme", TransactionID: "tx-once", AmountMinor: 1234, Currency: "USD",
		Status: store.StatusFailed, Reason: "daily total would overflow", LastError: "daily total would overflow",
		ReceivedAt: t0.Format(store.TimeLayout), FailedAt: t0.Add(time.Second).Format(store.TimeLayout),
		ReceiveCount: 3, ProcessingErrors: 1, Replayable: true,
	}, once)
	again := got[1]
	assert.Equal(t, "second cause", again.Reason, "the reason of the latest failure, not the first")
	assert.Equal(t, 4, again.ReceiveCount)
	assert.True(t, again.Replayed, "replayed before, failed again")
	assert.Equal(t, 1, again.ReplayCount)
	assert.True(t, again.Replayable)

	got, err = st.Failures(ctx, store.FailureQuery{Limit: 100, Replayed: true})
	require.NoError(t, err)
	require.Equal(t, []string{store.TxnPK("acme", "tx-once"), store.TxnPK("acme", "tx-again"), store.TxnPK("acme", "tx-replayed")},
		keys(got), "a transaction merely in flight is no failure")
	replayed := got[2]
	assert.Equal(t, store.StatusReplayed, replayed.Status)
	assert.True(t, replayed.Replayed)
	assert.False(t, replayed.Replayable, "already back on the queue")
	assert.Equal(t, "exhausted maxReceiveCount on the main queue", replayed.Reason)
	assert.Equal(t, "still failing", replayed.LastError)
	assert.NotEmpty(t, replayed.ReplayedAt)
}

// Dead messages tied to no transaction are listed from their FAILURE# items, naming the
// transaction their body names when it does.
func TestFailuresListsUnlinkedDeadMessages(t *testing.T) {
	ctx := context.Background()
	st := seedFailures(t)
	got, err := st.Failures(ctx, store.FailureQuery{Limit: 100, Replayed: true, Unlinked: true})
	require.NoError(t, err)
	require.Len(t, got, 5)
	byKey := map[string]store.Failure{}
	for _, f := range got[3:] {
		assert.Equal(t, store.FailureUnlinked, f.Status)
		assert.False(t, f.Replayable)
		byKey[f.Key] = f
	}
	junk := byKey["FAILURE#m-junk"]
	assert.Contains(t, junk.Reason, "invalid character")
	assert.Equal(t, 5, junk.ReceiveCount)
	assert.Empty(t, junk.Provider)
	ghost := byKey["FAILURE#m-ghost"]
	assert.Equal(t, "ghost", ghost.Provider)
	assert.Equal(t, "tx-missing", ghost.TransactionID)
	assert.Contains(t, ghost.Reason, "missing, accounted or has another payload")
	assert.LessOrEqual(t, got[3].FailedAt, got[4].FailedAt, "by the time they were recorded")
}

// At most limit failures are listed, from the FAILED list first; a limit under 1 is an error.
func TestFailuresHonoursTheLimit(t *testing.T) {
	ctx := context.Background()
	st := seedFailures(t)
	for _, limit := range []int{1, 2, 3, 4} {
		got, err := st.Failures(ctx, store.FailureQuery{Limit: limit, Replayed: true, Unlinked: true})
		require.NoError(t, err)
		assert.Len(t, got, limit)
		assert.Equal(t, store.TxnPK("acme", "tx-once"), got[0].Key)
	}
	_, err := st.Failures(ctx, store.FailureQuery{Limit: 0})
	assert.ErrorContains(t, err, "limit 0")
}

// An empty table lists no failure, whatever is asked.
func TestFailuresOfAnEmptyTable(t *testing.T) {
	got, err := env.NewStore(t).Failures(context.Background(), store.FailureQuery{Limit: 10, Replayed: true, Unlinked: true})
	require.NoError(t, err)
	assert.Empty(t, got)
}
