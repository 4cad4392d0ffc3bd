package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/store"
)

// Amounts are formatted with each currency's ISO 4217 exponent, the net is credits less
// debits, and a stored net_minor that differs (a day accounted partly before it was kept)
// is shown, not used.
func TestTotalsOfFormatsWithTheCurrencyExponent(t *testing.T) {
	got := totalsOf("acme", map[string]store.DailyTotal{
		"USD": {Currency: "USD", TotalMinor: 123456, Count: 3, DebitMinor: 500, DebitCount: 1, NetMinor: 122956},
		"JPY": {Currency: "JPY", TotalMinor: 1500, Count: 1, NetMinor: 1500},
		"BHD": {Currency: "BHD", TotalMinor: 1, Count: 1, DebitMinor: 2001, DebitCount: 1, NetMinor: -2001},
		"XYZ": {Currency: "XYZ", TotalMinor: 7, Count: 1, NetMinor: 7},
	})
	require.Len(t, got, 4)
	assert.Equal(t, []string{"BHD", "JPY", "USD", "XYZ"}, []string{got[0].Currency, got[1].Currency, got[2].Currency, got[3].Currency})
	bhd, jpy, usd, xyz := got[0], got[1], got[2], got[3]
	assert.Equal(t, []string{"0.001", "2.001", "-2.000"}, []string{bhd.Credited, bhd.Debited, bhd.Net})
	assert.Equal(t, int64(-2000), bhd.NetMinor)
	require.NotNil(t, bhd.StoredNetMinor, "net_minor -2001 is not 1 - 2001: the credit came before net_minor")
	assert.Equal(t, int64(-2001), *bhd.StoredNetMinor)
	assert.Equal(t, []string{"1500", "0", "1500"}, []string{jpy.Credited, jpy.Debited, jpy.Net})
	assert.Equal(t, 0, *jpy.Exponent)
	assert.Equal(t, []string{"1234.56", "5.00", "1229.56"}, []string{usd.Credited, usd.Debited, usd.Net})
	assert.Equal(t, Total{Provider: "acme", Currency: "USD", Exponent: usd.Exponent, TotalMinor: 123456, TxnCount: 3,
		DebitMinor: 500, DebitCount: 1, NetMinor: 122956, Credited: "1234.56", Debited: "5.00", Net: "1229.56"}, usd)
	assert.Nil(t, usd.StoredNetMinor)
	assert.Nil(t, xyz.Exponent, "no ISO 4217 exponent for a code not in the table")
	assert.Empty(t, xyz.Credited)
	assert.Equal(t, int64(7), xyz.TotalMinor)
}

// The table lists every total with its raw minor units, counts them and names the providers
// without totals that day.
func TestPrintTable(t *testing.T) {
	r := Report{Env: "local", Day: "2026-12-01", Providers: []string{"acme", "legacy", "stripe"},
		Totals: totalsOf("acme", map[string]store.DailyTotal{"USD": {Currency: "USD", TotalMinor: 1234, Count: 2, NetMinor: 1234}})}
	var out bytes.Buffer
	require.NoError(t, printTable(&out, r))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	assert.Equal(t, "env local, 2026-12-01 (UTC day of receipt)", lines[0])
	assert.Equal(t, strings.Fields("PROVIDER CURRENCY CREDITED (MINOR) COUNT DEBITED (MINOR) COUNT NET (MINOR)"), strings.Fields(lines[1]))
	assert.Equal(t, strings.Fields("acme USD 12.34 1234 2 0.00 0 0 12.34 1234"), strings.Fields(lines[2]))
	assert.Equal(t, len(lines[1]), len(lines[2]), "aligned")
	assert.True(t, strings.HasPrefix(lines[2], "acme      USD     "), "names left-aligned: %q", lines[2])
	assert.True(t, strings.HasSuffix(lines[1], "(MINOR)") && strings.HasSuffix(lines[2], " 1234"), "amounts right-aligned")
	assert.Equal(t, "1 total for 1 of 3 providers", lines[3])
	assert.Equal(t, "no totals for legacy, stripe", lines[4])

	out.Reset()
	require.NoError(t, printTable(&out, Report{Env: "local", Day: "2026-12-01", Providers: []string{"acme"}}))
	assert.Equal(t, "no totals on 2026-12-01 (UTC) for acme in env local\n", out.String())
}

// A malformed day is refused before anything is read.
func TestRunRefusesAMalformedDay(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), options{env: "local", state: "/nonexistent", day: "01/12/2026"}, &out)
	assert.ErrorContains(t, err, "want YYYY-MM-DD")
	assert.Empty(t, out.String())
}

// The JSON report has the stored attribute names.
func TestReportJSONNames(t *testing.T) {
	b, err := json.Marshal(totalsOf("acme", map[string]store.DailyTotal{"EUR": {TotalMinor: 100, Count: 1, NetMinor: 100}}))
	require.NoError(t, err)
	for _, k := range []string{`"total_minor":100`, `"txn_count":1`, `"debit_minor":0`, `"debit_count":0`, `"net_minor":100`, `"credited":"1.00"`, `"exponent":2`} {
		assert.Contains(t, string(b), k)
	}
	assert.NotContains(t, string(b), "stored_net_minor")
}
