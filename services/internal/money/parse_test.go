package money

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAmountValid(t *testing.T) {
	tests := []struct {
		text  string
		code  string
		minor int64
	}{
		{"12.34", "USD", 1234},
		{"12.3", "USD", 1230},
		{"12", "USD", 1200},
		{"0.01", "USD", 1},
		{"0.1", "USD", 10},
		{"0.10", "USD", 10},
		{"1.00", "USD", 100},
		{"10", "USD", 1000},
		{"5", "JPY", 5},
		{"1", "JPY", 1},
		{"1000000", "KRW", 1000000},
		{"1.234", "BHD", 1234},
		{"0.001", "KWD", 1},
		{"999999999999.999", "KWD", 999999999999999},
		{"9999999999999.99", "USD", MaxMinor},
		{"999999999999999", "JPY", MaxMinor},
		{"99999999999.9999", "CLF", MaxMinor},
		{"1.2345", "CLF", 12345},
		{"0.0001", "UYW", 1},
		{"1500", "HUF", 150000},
		{"1500.5", "RSD", 150050},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.text, func(t *testing.T) {
			cur := mustCurrency(t, tt.code)
			got, err := ParseAmount(tt.text, cur)
			require.NoError(t, err)
			assert.Equal(t, Amount{Minor: tt.minor, Currency: cur}, got)

			// Decimal() is canonical and parses back to the same amount.
			again, err := ParseAmount(got.Decimal(), cur)
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestParseAmountInvalid(t *testing.T) {
	tests := []struct {
		text   string
		code   string
		reason string
	}{
		{"", "USD", ReasonEmpty},
		// Signs.
		{"-1", "USD", ReasonNegative},
		{"-0", "USD", ReasonNegative},
		{"-0.00", "USD", ReasonNegative},
		{"-12.34", "USD", ReasonNegative},
		{"-Infinity", "USD", ReasonNegative},
		{"+1", "USD", ReasonNotDecimal},
		{"+0", "USD", ReasonNotDecimal},
		// Exponents.
		{"1e2", "USD", ReasonExponent},
		{"1E2", "USD", ReasonExponent},
		{"1E-2", "USD", ReasonExponent},
		{"1e+2", "USD", ReasonExponent},
		{"1.5e3", "USD", ReasonExponent},
		{"1e400", "USD", ReasonExponent},
		{"0e0", "USD", ReasonExponent},
		// Not finite, any case.
		{"NaN", "USD", ReasonNotFinite},
		{"nan", "USD", ReasonNotFinite},
		{"NAN", "USD", ReasonNotFinite},
		{"Inf", "USD", ReasonNotFinite},
		{"inf", "USD", ReasonNotFinite},
		{"+Inf", "USD", ReasonNotFinite},
		{"Infinity", "USD", ReasonNotFinite},
		{"INFINITY", "USD", ReasonNotFinite},
		{"infinity", "USD", ReasonNotFinite},
		// Hex and other notations.
		{"0x10", "USD", ReasonNotDecimal},
		{"0X1A", "USD", ReasonNotDecimal},
		{"0b101", "USD", ReasonNotDecimal},
		{"1_000", "USD", ReasonNotDecimal},
		{"1,50", "USD", ReasonNotDecimal},
		{"1,000.00", "USD", ReasonNotDecimal},
		{"12.34.56", "USD", ReasonNotDecimal},
		{"$12", "USD", ReasonNotDecimal},
		{"12USD", "USD", ReasonNotDecimal},
		{"e", "USD", ReasonNotDecimal},
		{"abc", "USD", ReasonNotDecimal},
		{"١٢", "USD", ReasonNotDecimal}, // Arabic-Indic digits
		{"１２", "USD", ReasonNotDecimal}, // full-width digits
		// Dots.
		{".5", "USD", ReasonNotDecimal},
		{"5.", "USD", ReasonNotDecimal},
		{".", "USD", ReasonNotDecimal},
		{"..5", "USD", ReasonNotDecimal},
		// Whitespace anywhere.
		{" 1", "USD", ReasonNotDecimal},
		{"1 ", "USD", ReasonNotDecimal},
		{"1 000", "USD", ReasonNotDecimal},
		{"\t1", "USD", ReasonNotDecimal},
		{"1\n", "USD", ReasonNotDecimal},
		{"\u00a01", "USD", ReasonNotDecimal},
		// JSON quoting is the caller's job: quotes are not digits.
		{`"12.34"`, "USD", ReasonNotDecimal},
		// Leading zeros.
		{"007", "USD", ReasonLeadingZero},
		{"00", "USD", ReasonLeadingZero},
		{"01.5", "USD", ReasonLeadingZero},
		{"00.00", "USD", ReasonLeadingZero},
		// Too many decimals, trailing zeros included.
		{"1.001", "USD", ReasonTooManyDecimals},
		{"1.000", "USD", ReasonTooManyDecimals},
		{"0.000", "USD", ReasonTooManyDecimals},
		{"1.0", "JPY", ReasonTooManyDecimals},
		{"5.5", "JPY", ReasonTooManyDecimals},
		{"1.2345", "BHD", ReasonTooManyDecimals},
		{"1.23456", "CLF", ReasonTooManyDecimals},
		// Zero.
		{"0", "USD", ReasonZero},
		{"0.00", "USD", ReasonZero},
		{"0.0", "USD", ReasonZero},
		{"0", "JPY", ReasonZero},
		{"0.000", "BHD", ReasonZero},
		// Too large.
		{"10000000000000.00", "USD", ReasonTooLarge},
		{"10000000000000", "USD", ReasonTooLarge},
		{"1000000000000000", "JPY", ReasonTooLarge},
		{"1000000000000", "KWD", ReasonTooLarge},
		{"9223372036854775807", "JPY", ReasonTooLarge},
		{"9223372036854775808", "JPY", ReasonTooLarge},
		{"18446744073709551616", "JPY", ReasonTooLarge},
		{"99999999999999999999", "USD", ReasonTooLarge},
		{"123456789012345678901234567890.12", "USD", ReasonTooLarge},
		{"1" + strings.Repeat("0", 400), "USD", ReasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.reason+"/"+tt.text, func(t *testing.T) {
			cur := mustCurrency(t, tt.code)
			got, err := ParseAmount(tt.text, cur)
			require.Error(t, err)
			assert.Equal(t, Amount{}, got)
			assert.ErrorIs(t, err, ErrInvalidAmount)

			var ae *AmountError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.reason, ae.Reason)
			assert.Equal(t, tt.text, ae.Text)
			assert.Equal(t, tt.code, ae.Currency)
			assert.Contains(t, err.Error(), tt.code)
		})
	}
}

func TestParseAmountUnknownCurrency(t *testing.T) {
	usd := mustCurrency(t, "USD")
	tests := []struct {
		name string
		cur  Currency
	}{
		{"zero value", Currency{}},
		{"not in table", Currency{Code: "ZZZ", MinorUnits: 2, Name: "Zed"}},
		{"withdrawn", Currency{Code: "HRK", MinorUnits: 2, Name: "Kuna"}},
		{"wrong scale", Currency{Code: "USD", MinorUnits: 3, Name: usd.Name}},
		{"lower case", Currency{Code: "usd", MinorUnits: 2, Name: usd.Name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAmount("1.00", tt.cur)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnknownCurrency)
			assert.NotErrorIs(t, err, ErrInvalidAmount)
		})
	}
}

func TestAmountErrorMessage(t *testing.T) {
	usd := mustCurrency(t, "USD")
	tests := []struct {
		name     string
		text     string
		contains []string
	}{
		{"too many decimals", "1.001", []string{`"1.001"`, "USD", "at most 2"}},
		{"too large", "10000000000000.00", []string{"too large", "9999999999999.99 USD"}},
		{"zero", "0", []string{"greater than zero"}},
		{"exponent", "1e2", []string{"exponent"}},
		{"empty", "", []string{`""`, "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAmount(tt.text, usd)
			require.Error(t, err)
			for _, s := range tt.contains {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestAmountErrorQuotesAtMost40Chars(t *testing.T) {
	usd := mustCurrency(t, "USD")
	long := strings.Repeat("a", 39) + "Z" + "SECRET-TAIL"
	_, err := ParseAmount(long, usd)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, strings.Repeat("a", 39)+"Z")
	assert.NotContains(t, msg, "SECRET")
	assert.Contains(t, msg, "...")

	// Multi-byte characters are cut on a character boundary.
	wide := strings.Repeat("é", 50)
	_, err = ParseAmount(wide, usd)
	require.Error(t, err)
	assert.True(t, utf8.ValidString(err.Error()))
	assert.Contains(t, err.Error(), strings.Repeat("é", 40)+`"...`)
	assert.NotContains(t, err.Error(), strings.Repeat("é", 41))

	// Exactly 40 characters are quoted whole.
	forty := strings.Repeat("b", 40)
	_, err = ParseAmount(forty, usd)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"`+forty+`"`)
	assert.NotContains(t, err.Error(), "...")
}

// TestParseAmountFromJSON shows the intended use with encoding/json: a
// json.Number keeps the literal text, so no float is ever involved.
func TestParseAmountFromJSON(t *testing.T) {
	tests := []struct {
		body   string
		minor  int64
		reason string
	}{
		{`{"amount": 12.34}`, 1234, ""},
		{`{"amount": "12.34"}`, 1234, ""},
		{`{"amount": 0.1}`, 10, ""},
		{`{"amount": 1e2}`, 0, ReasonExponent},
		{`{"amount": -1}`, 0, ReasonNegative},
		{`{"amount": "12.345"}`, 0, ReasonTooManyDecimals},
		{`{"amount": " 12"}`, 0, ReasonNotDecimal},
	}
	usd := mustCurrency(t, "USD")
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.body))
			dec.UseNumber()
			var payload struct {
				Amount any `json:"amount"`
			}
			require.NoError(t, dec.Decode(&payload))
			var text string
			switch v := payload.Amount.(type) {
			case json.Number:
				text = v.String()
			case string:
				text = v
			default:
				t.Fatalf("unexpected JSON type %T", v)
			}
			got, err := ParseAmount(text, usd)
			if tt.reason != "" {
				var ae *AmountError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.reason, ae.Reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.minor, got.Minor)
		})
	}
}

// knownReasons are every reason ParseAmount may return.
var knownReasons = []string{
	ReasonEmpty, ReasonNegative, ReasonExponent, ReasonNotFinite, ReasonLeadingZero,
	ReasonNotDecimal, ReasonTooManyDecimals, ReasonZero, ReasonTooLarge,
}

// fuzzCurrencies are the scales FuzzParseAmount exercises.
var fuzzCurrencies = []string{"USD", "JPY", "BHD", "CLF", "KWD", "EUR"}

func FuzzParseAmount(f *testing.F) {
	seeds := []string{
		"12.34", "12.3", "5", "1.234", "999999999999.999", "9999999999999.99",
		"10000000000000.00", "0.01", "1", "", "-1", "-0", "+1", "1e2", "1E-2",
		"1e400", "0x10", "NaN", "nan", "Inf", "-Infinity", "Infinity", "007",
		".5", "5.", " 1", "1 ", "1.001", "1.0", "0", "0.00",
		"99999999999999999999", "9223372036854775808", "1,5", "１２",
	}
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, text string, which uint8) {
		cur := mustCurrency(t, fuzzCurrencies[int(which)%len(fuzzCurrencies)])
		got, err := ParseAmount(text, cur)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) {
				t.Fatalf("ParseAmount(%q): error %v does not match ErrInvalidAmount", text, err)
			}
			var ae *AmountError
			if !errors.As(err, &ae) {
				t.Fatalf("ParseAmount(%q): error %T is not an *AmountError", text, err)
			}
			found := false
			for _, r := range knownReasons {
				found = found || r == ae.Reason
			}
			if !found {
				t.Fatalf("ParseAmount(%q): unknown reason %q", text, ae.Reason)
			}
			if got != (Amount{}) {
				t.Fatalf("ParseAmount(%q): non-zero amount %v with an error", text, got)
			}
			return
		}
		if got.Minor < 1 || got.Minor > MaxMinor {
			t.Fatalf("ParseAmount(%q) = %d, outside 1..MaxMinor", text, got.Minor)
		}
		if got.Currency != cur {
			t.Fatalf("ParseAmount(%q): currency %v, want %v", text, got.Currency, cur)
		}
		dec := got.Decimal()
		again, err := ParseAmount(dec, cur)
		if err != nil {
			t.Fatalf("ParseAmount(%q) = %d, but its Decimal() %q does not parse: %v", text, got.Minor, dec, err)
		}
		if again.Minor != got.Minor {
			t.Fatalf("round trip of %q: %d -> %q -> %d", text, got.Minor, dec, again.Minor)
		}
	})
}

func BenchmarkParseAmount(b *testing.B) {
	usd := mustCurrency(b, "USD")
	inputs := []string{"12.34", "9999999999999.99", "5", "0.01"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseAmount(inputs[i%len(inputs)], usd); err != nil {
			b.Fatal(err)
		}
	}
}
