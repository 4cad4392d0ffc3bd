package money

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromStripe(t *testing.T) {
	for _, c := range []struct {
		amount int64
		code   string
		minor  int64
		iso    string
		dec    string
	}{
		{2000, "usd", 2000, "USD", "20.00"},
		{2000, "USD", 2000, "USD", "20.00"},
		{500, "jpy", 500, "JPY", "500"},           // zero-decimal: whole yen
		{5, "mga", 500, "MGA", "5.00"},            // zero-decimal in Stripe, two decimals in ISO 4217
		{10000, "ugx", 10000, "UGX", "10000"},     // zero-decimal in both
		{500, "isk", 5, "ISK", "5"},               // two-decimal in Stripe, multiples of 100
		{5120, "kwd", 5120, "KWD", "5.120"},       // three-decimal, last digit 0
		{1050, "bhd", 1050, "BHD", "1.050"},       // three-decimal
		{123456, "huf", 123456, "HUF", "1234.56"}, // two-decimal for charges (zero-decimal for payouts only)
		{99, "twd", 99, "TWD", "0.99"},            // likewise
		{1, "clp", 1, "CLP", "1"},
	} {
		got, err := FromStripe(c.amount, c.code)
		require.NoError(t, err, "%d %s", c.amount, c.code)
		assert.Equal(t, c.minor, got.Minor, "%d %s", c.amount, c.code)
		assert.Equal(t, c.iso, got.Currency.Code)
		assert.Equal(t, c.dec, got.Decimal(), "%d %s", c.amount, c.code)
		back, err := ToStripe(got)
		require.NoError(t, err)
		assert.Equal(t, c.amount, back, "ToStripe(FromStripe(%d %s))", c.amount, c.code)
	}
}

func TestFromStripeRefuses(t *testing.T) {
	for _, c := range []struct {
		amount int64
		code   string
		want   error
	}{
		{4010, "isk", ErrInvalidAmount},            // 40.10 ISK: fractional króna, no ISO 4217 minor unit to hold it
		{5124, "kwd", ErrInvalidAmount},            // three-decimal with a last digit other than 0
		{1, "tnd", ErrInvalidAmount},               //
		{0, "usd", ErrInvalidAmount},               // zero
		{-100, "usd", ErrInvalidAmount},            // negative
		{MaxMinor/10 + 1, "mga", ErrInvalidAmount}, // too large once scaled to ISO minor units
		{MaxMinor + 1, "usd", ErrInvalidAmount},
		{100, "iqd", ErrUnknownCurrency}, // three decimals in ISO 4217, no documented Stripe rule
		{100, "clf", ErrUnknownCurrency}, // four decimals in ISO 4217
		{100, "xxx", ErrUnknownCurrency},
		{100, "Usd", ErrUnknownCurrency}, // mixed case is neither Stripe's nor ISO's spelling
		{100, "", ErrUnknownCurrency},
	} {
		_, err := FromStripe(c.amount, c.code)
		assert.True(t, errors.Is(err, c.want), "%d %q: got %v, want %v", c.amount, c.code, err, c.want)
	}
}

func TestToStripeRefusesWhatStripeCannotState(t *testing.T) {
	mga, _ := LookupCurrency("MGA")
	_, err := ToStripe(Amount{Minor: 550, Currency: mga}) // 5.50 MGA: Stripe has whole ariary only
	assert.ErrorIs(t, err, ErrInvalidAmount)
	iqd, _ := LookupCurrency("IQD")
	_, err = ToStripe(Amount{Minor: 1000, Currency: iqd})
	assert.ErrorIs(t, err, ErrUnknownCurrency)
}
