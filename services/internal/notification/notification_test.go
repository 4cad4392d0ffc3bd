package notification

import (
	"encoding/json"
	"math/big"
	"regexp"
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

func TestEventMessages(t *testing.T) {
	n, e := Parse([]byte(`{"transaction_id":"evt_1","amount":"5","currency":"USD","provider":"stripe"}`))
	require.Nil(t, e)
	flat := NewMessage(n, n.Hash(), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	assert.Equal(t, flat, flat.WithEvent("", "", "", false), "no kind: a flat notification's version 1 message")
	m := flat.WithEvent("charge.refunded", KindDebit, "pi_1", true)
	assert.Equal(t, EventMessageVersion, m.Version)
	got, err := ParseMessage(m.Body())
	require.NoError(t, err)
	assert.Equal(t, m, got)

	for _, bad := range []string{
		strings.Replace(m.Body(), `"v":2`, `"v":1`, 1),                         // event fields in a version 1 message
		strings.Replace(m.Body(), `"kind":"debit"`, `"kind":"refund"`, 1),      // unknown kind
		strings.Replace(m.Body(), `"payment_id":"pi_1"`, `"payment_id":""`, 1), // no payment
		strings.Replace(m.Body(), `"kind":"debit"`, `"kind":"credit"`, 1),      // a cumulative credit
		strings.Replace(m.Body(), `"v":2`, `"v":3`, 1),
	} {
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

func TestMetadataCanonicalForm(t *testing.T) {
	body := func(meta string) []byte {
		b := `{"transaction_id":"t1","amount":"1.00","currency":"USD","provider":"acme"`
		if meta != "" {
			b += `,"metadata":` + meta
		}
		return []byte(b + "}")
	}
	hash := func(meta string) (string, json.RawMessage) {
		t.Helper()
		n, e := Parse(body(meta))
		require.Nil(t, e, meta)
		return n.Hash(), n.Metadata
	}
	for _, equal := range [][]string{
		{"", `null`, `{}`, ` { } `},
		{`{"n":1}`, `{"n":1.0}`, `{"n":1e0}`, `{"n":10e-1}`, `{"n":0.1e1}`, `{"n":1.000E+0}`},
		{`{"n":100}`, `{"n":1e2}`, `{"n":1E+2}`, `{"n":100.00}`},
		{`{"n":0}`, `{"n":-0}`, `{"n":0.000}`, `{"n":0e10}`},
		{`{"s":"é"}`, `{"s":"\u00e9"}`, `{"s":"\u00E9"}`},
		{`{"a":{"y":1,"x":[1,2]}}`, `{ "a" : { "x" : [ 1.0 , 2 ] , "y" : 1 } }`},
		{`{"h":"<a&b>"}`, `{"h":"\u003ca\u0026b\u003e"}`},
	} {
		want, wantMeta := hash(equal[0])
		for _, other := range equal[1:] {
			got, gotMeta := hash(other)
			assert.Equal(t, want, got, "%s and %s are equal values", equal[0], other)
			assert.Equal(t, string(wantMeta), string(gotMeta))
		}
	}
	for _, pair := range [][2]string{
		{`{"n":1}`, `{"n":"1"}`}, {`{"n":1}`, `{"n":1.5}`}, {`{"a":[1,2]}`, `{"a":[2,1]}`}, {`{"a":{}}`, ``},
		{`{"n":1e400}`, `{"n":1e401}`}, {`{"n":0.1}`, `{"n":0.01}`}, {`{"n":-1}`, `{"n":1}`}, {`{"b":true}`, `{"b":1}`},
		{`{"n":null}`, ``}, {`{"s":"a"}`, `{"s":"A"}`},
	} {
		a, _ := hash(pair[0])
		b, _ := hash(pair[1])
		assert.NotEqual(t, a, b, "%s and %s differ", pair[0], pair[1])
	}
	_, meta := hash(`{"z":1,"a":{"k":"<é>"},"m":[1.50,2e25]}`)
	assert.Equal(t, `{"a":{"k":"<é>"},"m":[1.5,2e25],"z":1}`, string(meta), "the documented canonical text")
}

func TestCanonicalNumber(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "0.0": "0", "1": "1", "-1.50": "-1.5", "12.3400": "12.34", "1e2": "100",
		"1.5E+3": "1500", "25e-1": "2.5", "0.001": "0.001", "1e-21": "0.000000000000000000001", "1e-22": "1e-22",
		"1e20": "100000000000000000000", "1e21": "1e21", "123456789012345678901234567890": "123456789012345678901234567890",
		"1.5e400": "15e399", "-7e-400": "-7e-400", "100e-2": "1",
	} {
		got, ok := canonicalNumber(in)
		require.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "-", "1e", "1e+", ".5", "1.2.3", "0x10", "1e1234567890"} {
		_, ok := canonicalNumber(bad)
		assert.False(t, ok, bad)
	}
}

func TestLoneSurrogatesAreRefusedPairsKept(t *testing.T) {
	parse := func(meta string) (json.RawMessage, *Error) {
		n, e := Parse([]byte(`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":` + meta + `}`))
		return n.Metadata, e
	}
	for _, bad := range []string{`{"s":"\ud800"}`, `{"s":"\udc00"}`, `{"s":"\ud800x"}`, `{"s":"\ud800\u0041"}`, `{"\udfff":1}`} {
		_, e := parse(bad)
		require.NotNil(t, e, bad)
		assert.Equal(t, "metadata", e.Field, bad)
	}
	meta, e := parse(`{"s":"\ud83d\ude00","r":"\ufffd","b":"\\ud800"}`)
	require.Nil(t, e, "a pair, U+FFFD itself and an escaped backslash are fine")
	assert.Contains(t, string(meta), `"s":"😀"`)
	assert.Contains(t, string(meta), `"b":"\\ud800"`)
	assert.Contains(t, string(meta), `"r":"`+"\uFFFD"+`"`)
}

func TestMetadataDuplicateKeysAreRefused(t *testing.T) {
	for meta, field := range map[string]string{
		`{"x":2,"x":1}`:             "metadata.x",
		`{"a":{"b":1,"b":2}}`:       "metadata.a.b",
		`{"a":[{"k":1,"k":1}]}`:     "metadata.a[].k",
		`{"\u0078":2,"x":1}`:        "metadata.x",
		`{"a":1,"b":{"a":1},"a":3}`: "metadata.a",
	} {
		_, e := Parse([]byte(`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":` + meta + `}`))
		require.NotNil(t, e, meta)
		assert.Equal(t, CodeInvalidJSON, e.Code, meta)
		assert.Equal(t, field, e.Field, meta)
	}
	_, e := Parse([]byte(`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":{"a":{"x":1},"b":{"x":1}}}`))
	assert.Nil(t, e, "the same key in two objects is no duplicate")
}

func TestMetadataSizeIsTheCanonicalBytes(t *testing.T) {
	meta := func(value string) []byte {
		return []byte(`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":{"k":"` + value + `"}}`)
	}
	// {"k":"<...<"} is 8 bytes plus the value: 1,008 bytes of "<" make 1,016 canonical bytes,
	// far below the limit, though HTML escaping would make them 6,056.
	n, e := Parse(meta(strings.Repeat("<", 1008)))
	require.Nil(t, e)
	assert.Len(t, n.Metadata, 1016)
	_, e = Parse(meta(strings.Repeat("&", MaxMetadataBytes-8)))
	assert.Nil(t, e, "exactly MaxMetadataBytes")
	_, e = Parse(meta(strings.Repeat("&", MaxMetadataBytes-7)))
	require.NotNil(t, e, "one byte over")
	assert.Equal(t, "metadata", e.Field)
	_, e = Parse([]byte(`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":{"a":{"b":{"c":{"d":{"e":1}}}}}}`))
	assert.Nil(t, e, "five levels")
	_, e = Parse([]byte(`{"transaction_id":"t","amount":"1","currency":"USD","provider":"p","metadata":{"a":{"b":{"c":{"d":{"e":[1]}}}}}}`))
	require.NotNil(t, e, "six levels")
	assert.Equal(t, CodeInvalidValue, e.Code)
}

// bigExponent finds number literals whose value big.Rat would take long to build.
var bigExponent = regexp.MustCompile(`[eE][+-]?0*[0-9]{4,}`)

// FuzzMetadataCanonical checks the canonical form against an independent notion of JSON
// value equality (numbers compared as exact rationals): two metadata spellings hash equal
// exactly when they are equal values.
func FuzzMetadataCanonical(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"n":1}`, `{"n":1.0}`}, {`{"n":100}`, `{"n":1e2}`}, {`{}`, `null`}, {`{"a":[1,{"b":"<"}]}`, `{"a":[1,{"b":"\u003c"}]}`},
		{`{"n":1}`, `{"n":"1"}`}, {`{"x":2,"x":1}`, `{"x":1}`}, {`{"n":-0}`, `{"n":0}`}, {`{"n":1e-7}`, `{"n":0.0000001}`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if bigExponent.MatchString(a) || bigExponent.MatchString(b) {
			return
		}
		ca, ea := canonicalMetadata(json.RawMessage(a))
		cb, eb := canonicalMetadata(json.RawMessage(b))
		if ea != nil || eb != nil {
			return
		}
		again, e := canonicalMetadata(ca)
		if ca != nil {
			require.Nil(t, e, "the canonical form %s is valid metadata", ca)
			require.Equal(t, string(ca), string(again), "canonicalization is idempotent")
		}
		va, vb := decodeValue(t, ca), decodeValue(t, cb)
		require.Equal(t, valueEqual(decodeValue(t, []byte(a)), va), true, "canonical form keeps the value of %s", a)
		require.Equal(t, valueEqual(va, vb), string(ca) == string(cb), "%s vs %s", a, b)
	})
}

// decodeValue decodes JSON keeping numbers exact; empty or null or {} is "no metadata".
func decodeValue(t *testing.T, b []byte) any {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return v
}

// valueEqual compares decoded JSON values, numbers as exact rationals.
func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		rx, okx := new(big.Rat).SetString(string(x))
		ry, oky := new(big.Rat).SetString(string(y))
		return okx && oky && rx.Cmp(ry) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
