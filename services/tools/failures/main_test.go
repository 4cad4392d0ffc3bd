package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/store"
)

// An empty list says so, and what was not looked at.
func TestPrintTableEmpty(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, printTable(&out, "local", store.FailureQuery{Limit: 100}, nil))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Equal(t, "no failures recorded", lines[0])
	require.Len(t, lines, 2)
	assert.Contains(t, lines[1], "-replayed")
	assert.Contains(t, lines[1], "-unlinked")

	out.Reset()
	require.NoError(t, printTable(&out, "local", store.FailureQuery{Limit: 100, Replayed: true, Unlinked: true}, nil))
	assert.Equal(t, "no failures recorded\n", out.String())
}

// Each failure is a row with its time, transaction, amount in major units, receive count,
// replay state and reason (on one line), aligned; then the count.
func TestPrintTableRows(t *testing.T) {
	list := []store.Failure{
		{Provider: "legacy", TransactionID: "tx-1", AmountMinor: 500, Currency: "ISK", Status: store.StatusFailed,
			Reason: "account TXN#legacy#tx-1:\ndaily total would overflow", ReceivedAt: "2026-12-01T10:00:01.123456789Z", ReceiveCount: 3},
		{Provider: "acme", TransactionID: "tx-2", AmountMinor: 1000, Currency: "BHD", Status: store.StatusFailed,
			Reason: "boom", ReceivedAt: "2026-12-01T10:00:02.000000000Z", ReceiveCount: 4, Replayed: true, ReplayCount: 2},
		{Provider: "acme", TransactionID: "tx-3", AmountMinor: 1, Currency: "USD", Status: store.StatusReplayed, Reason: "x", Replayed: true, ReplayCount: 1},
		{Key: "FAILURE#m", Status: store.FailureUnlinked, Reason: "unparseable message: bad", ReceiveCount: 5},
	}
	var out bytes.Buffer
	require.NoError(t, printTable(&out, "local", store.FailureQuery{Limit: 4, Replayed: true, Unlinked: true}, list))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 6, out.String())
	assert.Equal(t, strings.Fields("RECEIVED (UTC) PROVIDER TRANSACTION AMOUNT RECEIVES REPLAYED REASON"), strings.Fields(lines[0]))
	assert.Equal(t, "2026-12-01 10:00:01  legacy    tx-1         500 ISK    3         no                      account TXN#legacy#tx-1: daily total would overflow", lines[1])
	assert.Contains(t, lines[2], "1.000 BHD")
	assert.Contains(t, lines[2], "yes (2), failed again")
	assert.Contains(t, lines[3], "yes, not accounted yet")
	assert.Contains(t, lines[4], "not replayable")
	reasonAt := strings.Index(lines[0], "REASON")
	for _, l := range lines[1:5] {
		assert.Equal(t, reasonAt, strings.LastIndex(l[:reasonAt+1], " ")+1, "aligned: %q", l)
	}
	assert.Equal(t, "4 failures (the first 4: raise -limit for more)", lines[5])
}

// A limit under 1 is refused before anything is read.
func TestRunRefusesABadLimit(t *testing.T) {
	err := run(context.Background(), options{env: "local", state: "/nonexistent", query: store.FailureQuery{Limit: 0}}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "-limit 0")
}
