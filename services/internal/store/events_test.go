package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/payload"
	"github.com/payhook/payhook/services/internal/store"
)

// event builds a money-moving event of the given kind.
func event(t *testing.T, id string, kind payload.Kind, payment, amount, currency string, cumulative bool) payload.Event {
	t.Helper()
	cur, ok := money.LookupCurrency(currency)
	require.True(t, ok)
	a, err := money.ParseAmount(amount, cur)
	require.NoError(t, err)
	return payload.Event{ID: id, Type: "t." + string(kind), Kind: kind, TransactionID: payment, Amount: a, Cumulative: cumulative}
}

// accountEvent inserts an event's record and accounts its message.
func accountEvent(t *testing.T, st *store.Store, e payload.Event) store.AccountOutcome {
	t.Helper()
	ctx := context.Background()
	rec := store.NewEventRecord("stripe", e, e.Hash("stripe"), "req", t0)
	_, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	out, err := st.Account(ctx, rec.Message())
	require.NoError(t, err)
	return out
}

func TestPaymentThenRefundsInAnyOrderNetExactly(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	day := t0.Format(store.DayLayout)
	accountEvent(t, st, event(t, "evt_pay", payload.Credit, "pi_1", "20.00", "USD", false))
	// Two partial refunds as charge.refunded sends them (cumulative), the second first.
	accountEvent(t, st, event(t, "evt_ref2", payload.Debit, "pi_1", "12.50", "USD", true))
	accountEvent(t, st, event(t, "evt_ref1", payload.Debit, "pi_1", "5.00", "USD", true))

	totals, err := st.DailyTotals(ctx, "stripe", day)
	require.NoError(t, err)
	usd := totals["USD"]
	assert.Equal(t, int64(2000), usd.TotalMinor)
	assert.Equal(t, int64(1), usd.Count)
	assert.Equal(t, int64(1250), usd.DebitMinor, "the refunds' cumulative amount, counted once")
	assert.Equal(t, int64(1), usd.DebitCount, "the late, smaller cumulative refund counted nothing")
	assert.Equal(t, int64(750), usd.NetMinor)

	l, err := st.GetLedger(ctx, "stripe", "pi_1")
	require.NoError(t, err)
	require.NotNil(t, l)
	assert.ElementsMatch(t, []string{"evt_pay", "evt_ref1", "evt_ref2"}, l.Events, "the payment's ledger shows its events")
	assert.Equal(t, int64(2000), l.CreditedMinor)
	assert.Equal(t, int64(1250), l.DebitedMinor)
	assert.Equal(t, int64(750), l.NetMinor())
	assert.Equal(t, "evt_pay", l.CreditedBy)

	late, err := st.Get(ctx, "stripe", "evt_ref1")
	require.NoError(t, err)
	assert.Equal(t, store.StatusAccounted, late.Status)
	assert.Equal(t, int64(0), late.CountedMinor)
	assert.Equal(t, "cumulative refund already counted", late.CountedNote)
}

func TestDeltaRefundsAddUp(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	accountEvent(t, st, event(t, "evt_p", payload.Credit, "pi_2", "1000", "JPY", false))
	accountEvent(t, st, event(t, "evt_r1", payload.Debit, "pi_2", "300", "JPY", false))
	accountEvent(t, st, event(t, "evt_r2", payload.Debit, "pi_2", "200", "JPY", false))
	totals, err := st.DailyTotals(ctx, "stripe", t0.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, store.DailyTotal{Provider: "stripe", Currency: "JPY", Day: t0.Format(store.DayLayout),
		TotalMinor: 1000, Count: 1, DebitMinor: 500, DebitCount: 2, NetMinor: 500}, totals["JPY"])
}

func TestAPaymentIsCreditedOnce(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	accountEvent(t, st, event(t, "evt_a", payload.Credit, "ch_1", "5.00", "EUR", false))
	// Another event crediting the same payment (charge.succeeded then charge.captured).
	accountEvent(t, st, event(t, "evt_b", payload.Credit, "ch_1", "5.00", "EUR", false))
	totals, err := st.DailyTotals(ctx, "stripe", t0.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(500), totals["EUR"].TotalMinor)
	assert.Equal(t, int64(1), totals["EUR"].Count)
	b, err := st.Get(ctx, "stripe", "evt_b")
	require.NoError(t, err)
	assert.Equal(t, "payment already credited by evt_a", b.CountedNote)
}

func TestARedeliveredEventIsAccountedOnce(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	e := event(t, "evt_many", payload.Debit, "pi_3", "7.00", "GBP", true)
	rec := store.NewEventRecord("stripe", e, e.Hash("stripe"), "req", t0)
	_, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	var wg sync.WaitGroup
	outcomes := make(chan store.AccountOutcome, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := st.Account(ctx, rec.Message())
			assert.NoError(t, err)
			outcomes <- out
		}()
	}
	wg.Wait()
	close(outcomes)
	accounted := 0
	for o := range outcomes {
		if o == store.Accounted {
			accounted++
		}
	}
	assert.Equal(t, 1, accounted)
	totals, err := st.DailyTotals(ctx, "stripe", t0.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(700), totals["GBP"].DebitMinor)
	assert.Equal(t, int64(-700), totals["GBP"].NetMinor, "a refund of a payment counted on another day")
}

func TestConcurrentRefundsOfOnePaymentCountTheirSum(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	var recs []store.Transaction
	for i, amt := range []string{"1.00", "2.00", "3.00", "4.00"} {
		e := event(t, "evt_c"+amt, payload.Debit, "pi_4", amt, "USD", false)
		rec := store.NewEventRecord("stripe", e, e.Hash("stripe"), "req", t0)
		_, _, err := st.Insert(ctx, rec)
		require.NoError(t, err, i)
		recs = append(recs, rec)
	}
	var wg sync.WaitGroup
	for _, rec := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.Account(ctx, rec.Message())
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	l, err := st.GetLedger(ctx, "stripe", "pi_4")
	require.NoError(t, err)
	assert.Equal(t, int64(1000), l.DebitedMinor)
	assert.Len(t, l.Events, 4)
}

func TestAnEventInAnotherCurrencyThanItsPaymentFails(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	accountEvent(t, st, event(t, "evt_usd", payload.Credit, "pi_5", "1.00", "USD", false))
	e := event(t, "evt_eur", payload.Debit, "pi_5", "1.00", "EUR", false)
	rec := store.NewEventRecord("stripe", e, e.Hash("stripe"), "req", t0)
	_, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	_, err = st.Account(ctx, rec.Message())
	require.ErrorIs(t, err, store.ErrCurrencyMismatch)
	got, err := st.Get(ctx, "stripe", "evt_eur")
	require.NoError(t, err)
	assert.Equal(t, store.StatusReceived, got.Status, "nothing counted; the message goes on to the DLQ")
}

func TestAnIgnoredEventIsRecordedNotQueued(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	rec := store.NewEventRecord("stripe", payload.Event{ID: "evt_i", Type: "customer.created", Kind: payload.Ignored}, "h", "req", t0)
	out, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	assert.Equal(t, store.Inserted, out)
	got, err := st.Get(ctx, "stripe", "evt_i")
	require.NoError(t, err)
	assert.Equal(t, store.StatusIgnored, got.Status)
	assert.Equal(t, "customer.created", got.EventType)
	assert.False(t, got.Pending())
	pending, err := st.PendingOutbox(ctx, t0.Add(1e12), 100)
	require.NoError(t, err)
	for _, p := range pending {
		assert.NotEqual(t, "evt_i", p.TransactionID)
	}
}

func TestSwitchingFromDeltaToCumulativeRefundsCountsNothingTwice(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	accountEvent(t, st, event(t, "evt_sp", payload.Credit, "pi_6", "10.00", "USD", false))
	accountEvent(t, st, event(t, "evt_sd", payload.Debit, "pi_6", "3.00", "USD", false)) // refund.created
	// The provider now sends charge.refunded: 3.00 then 4.00 refunded so far.
	accountEvent(t, st, event(t, "evt_sc1", payload.Debit, "pi_6", "3.00", "USD", true))
	accountEvent(t, st, event(t, "evt_sc2", payload.Debit, "pi_6", "4.00", "USD", true))
	l, err := st.GetLedger(ctx, "stripe", "pi_6")
	require.NoError(t, err)
	assert.Equal(t, int64(400), l.DebitedMinor)
	assert.Equal(t, int64(600), l.NetMinor())
}

// TestAccountMovedSaysWhatMoved: what AccountMoved reports is what the totals moved by: a
// credit, the difference a cumulative refund adds, nothing for one already counted.
func TestAccountMovedSaysWhatMoved(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	moved := func(e payload.Event) store.Moved {
		rec := store.NewEventRecord("stripe", e, e.Hash("stripe"), "req", t0)
		_, _, err := st.Insert(ctx, rec)
		require.NoError(t, err)
		out, mv, err := st.AccountMoved(ctx, rec.Message())
		require.NoError(t, err)
		require.Equal(t, store.Accounted, out)
		return mv
	}
	assert.Equal(t, store.Moved{Kind: "credit", AmountMinor: 2000}, moved(event(t, "evt_mp", payload.Credit, "pi_m", "20.00", "USD", false)))
	assert.Equal(t, store.Moved{Kind: "debit", AmountMinor: 500}, moved(event(t, "evt_mr1", payload.Debit, "pi_m", "5.00", "USD", true)))
	assert.Equal(t, store.Moved{Kind: "debit", AmountMinor: 750}, moved(event(t, "evt_mr2", payload.Debit, "pi_m", "12.50", "USD", true)), "12.50 so far: 7.50 more")
	assert.Equal(t, store.Moved{}, moved(event(t, "evt_mr0", payload.Debit, "pi_m", "5.00", "USD", true)), "already counted")
}
