package money

import "fmt"

// Stripe states amounts as integers in what its API calls the currency's smallest unit,
// which is not always ISO 4217's minor unit. The rules below are Stripe's own, from its
// currency documentation (docs.stripe.com/currencies, "Zero-decimal currencies",
// "Three-decimal currencies" and "Special cases") and its support article on ISK
// ("Deprecation of fractional ISK charges and refunds"):
//
//   - zero-decimal currencies (stripeZeroDecimal): the amount is in whole units. For all
//     but MGA that is also ISO 4217's minor unit; ISO gives MGA two decimals, so 5 MGA
//     (Stripe 5) is 500 in ISO minor units;
//   - three-decimal currencies BHD, JOD, KWD, OMR and TND: thousandths, as in ISO 4217,
//     but Stripe requires the last digit to be 0 (amounts are rounded to the nearest ten);
//   - ISK: ISO 4217 has no minor unit, but Stripe keeps it two-decimal for backwards
//     compatibility and since 14 April 2023 requires multiples of 100 (100 is 1 króna);
//   - HUF and TWD: two-decimal for charges and refunds, as in ISO 4217 (Stripe treats them
//     as zero-decimal only for payouts, which payhook does not receive);
//   - every other currency Stripe supports is two-decimal. A currency whose ISO 4217 minor
//     unit is not 2 and that none of the rules above names (IQD, LYD, CLF, ...) has no
//     documented Stripe representation: it is refused rather than guessed.
var (
	stripeZeroDecimal = map[string]bool{
		"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true, "KRW": true, "MGA": true,
		"PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true, "XOF": true, "XPF": true,
	}
	stripeThreeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}
)

// StripeDecimals returns how many decimals Stripe's API amounts in cur have, and the
// multiple every such amount must be (1 when any integer is valid). ok is false for a
// currency without a documented Stripe representation.
func StripeDecimals(cur Currency) (decimals int, multiple int64, ok bool) {
	switch code := cur.Code; {
	case stripeZeroDecimal[code]:
		return 0, 1, true
	case stripeThreeDecimal[code]:
		return 3, 10, true
	case code == "ISK":
		return 2, 100, true
	case cur.MinorUnits == 2:
		return 2, 1, true
	default:
		return 0, 0, false
	}
}

// FromStripe converts a Stripe API amount in currency code (Stripe spells codes in
// lowercase; either case is accepted) to an exact Amount in ISO 4217 minor units. It
// never rounds: an amount Stripe itself would refuse (an ISK amount not a multiple of 100,
// a three-decimal amount whose last digit is not 0), a currency Stripe's documentation
// does not define, a non-positive amount and one above MaxMinor are errors that wrap
// ErrInvalidAmount or ErrUnknownCurrency.
func FromStripe(amount int64, code string) (Amount, error) {
	cur, found := LookupCurrencyEitherCase(code)
	if !found {
		return Amount{}, fmt.Errorf("%s is not an ISO 4217 currency code: %w", quote(code), ErrUnknownCurrency)
	}
	upper := cur.Code
	decimals, multiple, ok := StripeDecimals(cur)
	if !ok {
		return Amount{}, fmt.Errorf("%s has no documented Stripe amount representation (ISO 4217 minor units %d): %w",
			upper, cur.MinorUnits, ErrUnknownCurrency)
	}
	if amount <= 0 {
		return Amount{}, fmt.Errorf("%d %s: must be positive: %w", amount, upper, ErrInvalidAmount)
	}
	if amount%multiple != 0 {
		return Amount{}, fmt.Errorf("%d %s: Stripe states %s amounts in multiples of %d: %w",
			amount, upper, upper, multiple, ErrInvalidAmount)
	}
	minor := amount
	switch diff := cur.MinorUnits - decimals; {
	case diff > 0:
		for range diff {
			if minor > MaxMinor/10 {
				return Amount{}, fmt.Errorf("%d %s: more than %d minor units: %w", amount, upper, MaxMinor, ErrInvalidAmount)
			}
			minor *= 10
		}
	case diff < 0:
		for range -diff {
			if minor%10 != 0 {
				return Amount{}, fmt.Errorf("%d %s: not a whole number of ISO 4217 minor units: %w", amount, upper, ErrInvalidAmount)
			}
			minor /= 10
		}
	}
	if minor > MaxMinor {
		return Amount{}, fmt.Errorf("%d %s: more than %d minor units: %w", amount, upper, MaxMinor, ErrInvalidAmount)
	}
	return Amount{Minor: minor, Currency: cur}, nil
}

// ToStripe is the Stripe API amount of a, for tools that build Stripe events (smoke,
// loadtest, local mode): FromStripe(ToStripe(a)) is a whenever Stripe can state a (an
// amount Stripe would refuse, such as a three-decimal one whose last digit is not 0, is
// returned as is and refused by FromStripe).
func ToStripe(a Amount) (int64, error) {
	decimals, _, ok := StripeDecimals(a.Currency)
	if !ok {
		return 0, fmt.Errorf("%s has no documented Stripe amount representation: %w", a.Currency.Code, ErrUnknownCurrency)
	}
	v := a.Minor
	for d := a.Currency.MinorUnits; d < decimals; d++ {
		v *= 10
	}
	for d := a.Currency.MinorUnits; d > decimals; d-- {
		if v%10 != 0 {
			return 0, fmt.Errorf("%s has no exact Stripe amount: %w", a, ErrInvalidAmount)
		}
		v /= 10
	}
	return v, nil
}
