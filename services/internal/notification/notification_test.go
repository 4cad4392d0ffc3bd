package notification

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExactAmountsAndCanonicalHash(t *testing.T) {
	a, e := Parse([]byte(`{"transaction_id":"t1","amount":12.3,"currency":"USD","provider":"acme","metadata":{"b":1,"a":{"x":"y"}}}`))
	require.Nil(t, e)
	assert.Equal(t, int64(1230), a.Amount.Minor)
	assert.Equal(t, `{"a":{"x":"y"},"b":1}`, string(a.Metadata), "metadata is canonical: sorted keys")

	b, e := Parse([]byte(`{ "metadata" : {"a":{"x":"y"},"b":1}, "provider":"acme", "currency":"USD", "amount":"12.30", "transaction_id":"t1" }`))
	require.Nil(t, e)
	assert.Equal(t, a.Hash(), b.Hash(), "the same notification spelled differently has one hash")

	for _, other := range []string{
		`{"transaction_id":"t1","amount":"12.31","currency":"USD","provider":"acme","metadata":{"b":1,"a":{"x":"y"}}}`,
		`{"transaction_id":"t1","amount":"12.30","currency":"EUR","provider":"acme","metadata":{"b":1,"a":{"x":"y"}}}`,
		`{"transaction_id":"t1","amount":"12.30","currency":"USD","provider":"acme","metadata":{"b":2,"a":{"x":"y"}}}`,
		`{"transaction_id":"t1","amount":"12.30","currency":"USD","provider":"acme"}`,
	} {
		c, e := Parse([]byte(other))
		require.Nil(t, e, other)
		assert.NotEqual(t, a.Hash(), c.Hash(), other)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := []struct{ body, code, field string }{
		{`nope`, CodeInvalidJSON, ""},
		{"\xff\xfe", CodeInvalidJSON, ""},
		{`{"transaction_id":"t","amount":1,"currency":"USD","provider":"p","x":1}`, CodeUnknownField, "x"},
		{`{"amount":1,"currency":"USD","provider":"p"}`, CodeMissingField, "transaction_id"},
		{`{"transaction_id":"","amount":1,"currency":"USD","provider":"p"}`, CodeMissingField, "transaction_id"},
		{`{"transaction_id":7,"amount":1,"currency":"USD","provider":"p"}`, CodeInvalidType, "transaction_id"},
		{`{"transaction_id":"t t","amount":1,"currency":"USD","provider":"p"}`, CodeInvalidValue, "transaction_id"},
		{`{"transaction_id":"t","currency":"USD","provider":"p"}`, CodeMissingField, "amount"},
		{`{"transaction_id":"t","amount":null,"currency":"USD","provider":"p"}`, CodeMissingField, "amount"},
		{`{"transaction_id":"t","amount":[1],"currency":"USD","provider":"p"}`, CodeInvalidType, "amount"},
		{`{"transaction_id":"t","amount":"1.001","currency":"USD","provider":"p"}`, CodeInvalidAmount, "amount"},
		{`{"transaction_id":"t","amount":"1","currency":"ZZZ","provider":"p"}`, CodeUnknownCurrency, "currency"},
		{`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":"x"}`, CodeInvalidType, "metadata"},
		{`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":{"k":"` + strings.Repeat("v", MaxMetadataBytes) + `"}}`, CodeInvalidValue, "metadata"},
		{`{"transaction_id":"t","amount":"1","currency":"USD"}`, CodeMissingField, "provider"},
		{`{"transaction_id":"t","Amount":"1","amount":"9","currency":"USD","provider":"p"}`, CodeUnknownField, "Amount"},
		{`{"transaction_id":"t","amount":"1","amount":"9","currency":"USD","provider":"p"}`, CodeInvalidJSON, "amount"},
		{`{"transaction_id":"t","amount":"1","\u0061mount":"9","currency":"USD","provider":"p"}`, CodeInvalidJSON, "amount"},
		{`{"transaction_id":"t","metadata":{"amount":1,"x":[{"amount":2}]},"amount":"1","currency":"USD","provider":"p","z":1}`, CodeUnknownField, "z"},
	}
	for _, c := range cases {
		_, e := Parse([]byte(c.body))
		require.NotNil(t, e, c.body)
		assert.Equal(t, c.code, e.Code, c.body)
		assert.Equal(t, c.field, e.Field, c.body)
		assert.NotEmpty(t, e.Message)
		assert.LessOrEqual(t, len(e.Message), 200, "messages never echo a whole input")
	}
}

func TestMessageRoundTripAndStrictness(t *testing.T) {
	n, e := Parse([]byte(`{"transaction_id":"t1","amount":"0.5","currency":"BHD","provider":"acme"}`))
	require.Nil(t, e)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	m := NewMessage(n, n.Hash(), at)
	got, err := ParseMessage(m.Body())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	assert.Equal(t, int64(500), got.AmountMinor)

	for _, bad := range []string{"", "{}", `{"v":2}`, strings.Replace(m.Body(), `"BHD"`, `"XXX"`, 1),
		strings.Replace(m.Body(), `"amount_minor":500`, `"amount_minor":-5`, 1), m.Body() + "{}",
		strings.Replace(m.Body(), `{"v":1`, `{"v":1,"extra":true`, 1)} {
		_, err := ParseMessage(bad)
		assert.Error(t, err, bad)
	}
}

// FuzzDecode: whatever the body, Parse either refuses it with a named code or returns a
// notification whose fields hold the invariants the rest of the system relies on.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"transaction_id":"t1","amount":12.3,"currency":"USD","provider":"acme"}`,
		`{"transaction_id":"t1","amount":"1e400","currency":"USD","provider":"acme"}`,
		`{"transaction_id":"t1","amount":"0.001","currency":"KWD","provider":"acme","metadata":{"a":[1,{"b":null}]}}`,
		`[]`, `{}`, `{"provider":"a"} x`, `{"metadata":{"a":{"b":{"c":{"d":{"e":{}}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, e := Parse(body)
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
			return
		}
		if n.Amount.Minor < 1 || n.TransactionID == "" || len(n.TransactionID) > MaxTransactionIDLen || n.Provider == "" {
			t.Fatalf("accepted an invalid notification: %+v", n)
		}
		if len(n.Metadata) > MaxMetadataBytes {
			t.Fatalf("metadata too large: %d", len(n.Metadata))
		}
		m, err := ParseMessage(NewMessage(n, n.Hash(), time.Unix(1, 0)).Body())
		if err != nil {
			t.Fatalf("an accepted notification makes an unparseable message: %v", err)
		}
		if m.AmountMinor != n.Amount.Minor {
			t.Fatalf("amount changed on the queue")
		}
	})
}
