package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/payload"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/testenv"
)

// inserted stores n flat notifications of provider in currency, each of amount, and
// returns their messages.
func inserted(t *testing.T, st *store.Store, provider, prefix, amount, currency string, n int) []notification.Message {
	t.Helper()
	var ms []notification.Message
	for i := range n {
		no := testenv.Notification(t, provider, fmt.Sprintf("%s-%d", prefix, i), amount, currency)
		ms = append(ms, testenv.Insert(t, st, no, t0))
	}
	return ms
}

func TestABatchAccountsEachRecordAndEachTotalOnce(t *testing.T) {
	st := env.NewStore(t)
	ctx := context.Background()
	ms := append(inserted(t, st, "acme", "b-usd", "1.00", "USD", 3), inserted(t, st, "acme", "b-eur", "2.00", "EUR", 2)...)
	ms = append(ms, inserted(t, st, "globex", "b-usd", "5.00", "USD", 1)...)
	ms = append(ms, ms[0]) // the same message twice in one batch
	res := st.AccountBatch(ctx, ms)
	for i, r := range res[:6] {
		require.NoError(t, r.Err, i)
		assert.Equal(t, store.Accounted, r.Outcome, i)
		assert.Equal(t, notification.KindCredit, r.Moved.Kind)
	}
	assert.Equal(t, store.AlreadyAccounted, res[6].Outcome, "the repeat is accounted alone, after the batch: already done")
	day := t0.Format(store.DayLayout)
	for _, want := range []struct {
		provider, currency string
		total, count       int64
	}{{"acme", "USD", 300, 3}, {"acme", "EUR", 400, 2}, {"globex", "USD", 500, 1}} {
		totals, err := st.DailyTotals(ctx, want.provider, day)
		require.NoError(t, err)
		assert.Equal(t, want.total, totals[want.currency].TotalMinor, want)
		assert.Equal(t, want.count, totals[want.currency].Count, want)
	}
}

// TestARefusedBatchFallsBackToEachMessage: a batch holding a redelivery of an accounted
// record and a message whose record differs is refused as a whole; each message is then
// accounted alone, so the others count once and each problem is named.
func TestARefusedBatchFallsBackToEachMessage(t *testing.T) {
	st := env.NewStore(t)
	ctx := context.Background()
	ms := inserted(t, st, "acme", "fb", "1.00", "USD", 4)
	out, err := st.Account(ctx, ms[0])
	require.NoError(t, err)
	require.Equal(t, store.Accounted, out)
	bad := ms[1]
	bad.AmountMinor = 999_999
	res := st.AccountBatch(ctx, []notification.Message{ms[0], bad, ms[2], ms[3]})
	assert.Equal(t, store.AlreadyAccounted, res[0].Outcome)
	assert.True(t, errors.Is(res[1].Err, store.ErrMismatch), "%v", res[1].Err)
	assert.Equal(t, store.Accounted, res[2].Outcome)
	assert.Equal(t, store.Accounted, res[3].Outcome)
	totals, err := st.DailyTotals(ctx, "acme", t0.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(300), totals["USD"].TotalMinor, "ms[0] once, ms[2] and ms[3]; not the mismatch")
	assert.Equal(t, int64(3), totals["USD"].Count)
}

func TestEventsInABatchAreAccountedAlone(t *testing.T) {
	st := env.NewStore(t)
	ctx := context.Background()
	flat := inserted(t, st, "acme", "mix", "1.00", "USD", 2)
	e := event(t, "evt_batch_pay", payload.Credit, "pi_batch", "20.00", "USD", false)
	rec := store.NewEventRecord("stripe", e, e.Hash("stripe"), "r", t0)
	_, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	res := st.AccountBatch(ctx, append(flat, rec.Message()))
	for i, r := range res {
		require.NoError(t, r.Err, i)
		assert.Equal(t, store.Accounted, r.Outcome, i)
	}
	assert.Equal(t, int64(2000), res[2].Moved.AmountMinor, "the event's credit, through its ledger")
	ledger, err := st.GetLedger(ctx, "stripe", "pi_batch")
	require.NoError(t, err)
	require.NotNil(t, ledger)
}
