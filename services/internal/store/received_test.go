package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/testenv"
)

func TestReceivedParsesTheStoredTime(t *testing.T) {
	n := testenv.Notification(t, "acme", "tx-received", "1", "USD")
	rec := store.NewTransaction(n, n.Hash(), "req", t0)
	at, err := rec.Received()
	require.NoError(t, err)
	assert.True(t, t0.Equal(at))
	assert.True(t, t0.Equal(rec.Message().ReceivedAt))

	rec.ReceivedAt = "yesterday"
	_, err = rec.Received()
	require.Error(t, err)
	assert.Contains(t, err.Error(), rec.PK, "the error names the item")
	assert.Contains(t, err.Error(), "received_at", "and the attribute")
	assert.Contains(t, err.Error(), `"yesterday"`, "and the value")
}

// An item whose received_at does not parse is an error wherever the store reads it,
// rather than a transaction whose message carries the zero time (and whose amount would
// be counted on 0001-01-01).
func TestStoreRefusesAnUnparsableReceivedAt(t *testing.T) {
	ctx := context.Background()
	st := env.NewStore(t)
	n := testenv.Notification(t, "acme", "tx-bad-time", "1", "USD")
	rec := store.NewTransaction(n, n.Hash(), "req", t0)
	rec.ReceivedAt = "yesterday" // its outbox place (gsi1sk) stays valid
	out, _, err := st.Insert(ctx, rec)
	require.NoError(t, err)
	require.Equal(t, store.Inserted, out)

	check := func(what string, err error) {
		t.Helper()
		require.Error(t, err, what)
		assert.Contains(t, err.Error(), store.TxnPK("acme", "tx-bad-time"), what)
		assert.Contains(t, err.Error(), "received_at", what)
	}
	got, err := st.Get(ctx, "acme", "tx-bad-time")
	check("Get", err)
	assert.Nil(t, got)
	_, err = st.PendingOutbox(ctx, t0.Add(time.Hour), 10)
	check("PendingOutbox", err)
	_, _, err = st.Insert(ctx, rec)
	check("Insert of a duplicate", err)

	good := testenv.Notification(t, "acme", "tx-good-time", "1", "USD")
	_, _, err = st.Insert(ctx, store.NewTransaction(good, good.Hash(), "req", t0))
	require.NoError(t, err)
	g, err := st.Get(ctx, "acme", "tx-good-time")
	require.NoError(t, err)
	assert.True(t, t0.Equal(g.Message().ReceivedAt), "valid data reads as before")
}
