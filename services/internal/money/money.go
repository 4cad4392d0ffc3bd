// Package money holds exact monetary amounts for payhook.
//
// An amount is an integer count of the currency's minor units (cents for
// USD, fils for BHD, yen for JPY), scaled by the ISO 4217 minor-unit digits
// of its currency. Nothing in this package uses floating point: amounts are
// parsed from their decimal text digit by digit, and every arithmetic step is
// overflow-checked.
//
// Typical use at the edge of the system:
//
//	cur, ok := money.LookupCurrency(payload.Currency)
//	if !ok { /* 400: unknown currency */ }
//	amt, err := money.ParseAmount(string(payload.Amount), cur) // json.Number or JSON string content
//	if err != nil { /* 400: errors.Is(err, money.ErrInvalidAmount) */ }
package money

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// MaxMinor is the largest amount, in minor units, that ParseAmount accepts:
// 15 decimal digits. Anything larger is an absurd magnitude for a single
// payment notification and is rejected with reason ReasonTooLarge. It also
// leaves ample headroom below math.MaxInt64 for daily totals.
const MaxMinor int64 = 999_999_999_999_999

// maxMinorDigits is the number of decimal digits of MaxMinor.
const maxMinorDigits = 15

// ErrUnknownCurrency is returned by ParseAmount when the Currency it is given
// is not an entry of the ISO 4217 table (for example a zero Currency, or one
// built by hand with a wrong MinorUnits).
var ErrUnknownCurrency = errors.New("unknown currency")

// Currency is an active ISO 4217 currency or fund code.
type Currency struct {
	// Code is the three-letter uppercase alphabetic code, e.g. "USD".
	Code string
	// MinorUnits is the number of decimal digits of the minor unit as
	// published in ISO 4217 (0 for JPY, 2 for USD, 3 for BHD, 4 for CLF).
	MinorUnits int
	// Name is the currency name as ISO 4217 List One spells it.
	Name string
}

// LookupCurrency returns the active ISO 4217 currency with the given
// alphabetic code. The match is exact: the code must be three uppercase
// ASCII letters ("usd", " USD" and "USDX" are not found), and withdrawn codes
// or codes without numeric minor units (XAU, XXX ...) are not found either.
func LookupCurrency(code string) (Currency, bool) {
	if !isCurrencyCode(code) {
		return Currency{}, false
	}
	i := sort.Search(len(currencyTable), func(i int) bool { return currencyTable[i].Code >= code })
	if i < len(currencyTable) && currencyTable[i].Code == code {
		return currencyTable[i], true
	}
	return Currency{}, false
}

// LookupCurrencyEitherCase is LookupCurrency for a code spelled all uppercase ("USD") or
// all lowercase ("usd", Stripe's spelling); mixed case ("Usd") is not found.
func LookupCurrencyEitherCase(code string) (Currency, bool) {
	if upper := strings.ToUpper(code); code == upper || code == strings.ToLower(code) {
		return LookupCurrency(upper)
	}
	return Currency{}, false
}

// Currencies returns a copy of the whole table of active currencies, sorted
// by code.
func Currencies() []Currency {
	out := make([]Currency, len(currencyTable))
	copy(out, currencyTable[:])
	return out
}

// isCurrencyCode reports whether s is three uppercase ASCII letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Amount is an exact amount of money: Minor units of Currency, so that
// Amount{Minor: 1234, Currency: USD} is 12.34 USD.
type Amount struct {
	// Minor is the amount in minor units of Currency.
	Minor int64
	// Currency gives the scale of Minor.
	Currency Currency
}

// Decimal formats the amount as a plain decimal with exactly
// Currency.MinorUnits fraction digits: "12.34" for 1234 USD, "5" for 5 JPY,
// "0.001" for 1 BHD. Negative amounts get a leading "-". For any amount that
// ParseAmount returned, ParseAmount(a.Decimal(), a.Currency) gives it back.
func (a Amount) Decimal() string {
	return formatMinor(a.Minor, a.Currency.MinorUnits)
}

// String formats the amount with its currency code, e.g. "12.34 USD".
func (a Amount) String() string {
	return a.Decimal() + " " + a.Currency.Code
}

// formatMinor renders minor with scale fraction digits, without floats.
func formatMinor(minor int64, scale int) string {
	neg := minor < 0
	// Work on the magnitude as uint64 so that math.MinInt64 is handled.
	mag := uint64(minor)
	if neg {
		mag = -mag
	}
	digits := strconv.FormatUint(mag, 10)
	if scale <= 0 {
		if neg {
			return "-" + digits
		}
		return digits
	}
	if len(digits) <= scale {
		digits = zeros(scale-len(digits)+1) + digits
	}
	cut := len(digits) - scale
	s := digits[:cut] + "." + digits[cut:]
	if neg {
		return "-" + s
	}
	return s
}

// zeros returns n ASCII zeros.
func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
