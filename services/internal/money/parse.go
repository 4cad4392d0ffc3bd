package money

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidAmount is the sentinel behind every *AmountError:
// errors.Is(err, ErrInvalidAmount) is true for any amount that ParseAmount
// rejects.
var ErrInvalidAmount = errors.New("invalid amount")

// Reasons carried by AmountError.Reason. They are short, stable codes meant
// for API error bodies, logs and metrics; new ones may be added, existing ones
// never change meaning.
const (
	// ReasonEmpty: the text is empty.
	ReasonEmpty = "empty"
	// ReasonNegative: the text starts with a minus sign ("-1", "-0").
	ReasonNegative = "negative"
	// ReasonExponent: the text uses exponent notation ("1e2", "1E-2").
	ReasonExponent = "exponent"
	// ReasonNotFinite: the text is NaN or an infinity, in any case.
	ReasonNotFinite = "not_finite"
	// ReasonLeadingZero: the integer part has a leading zero ("007").
	ReasonLeadingZero = "leading_zero"
	// ReasonNotDecimal: anything else that is not a plain decimal
	// (whitespace, "+1", "0x10", ".5", "5.", "1,5", letters ...).
	ReasonNotDecimal = "not_decimal"
	// ReasonTooManyDecimals: more fraction digits than the currency's
	// minor units, trailing zeros included ("1.001" USD, "1.0" JPY).
	ReasonTooManyDecimals = "too_many_decimals"
	// ReasonZero: the amount is zero ("0", "0.00").
	ReasonZero = "zero"
	// ReasonTooLarge: more than MaxMinor minor units.
	ReasonTooLarge = "too_large"
)

// describe gives the human description of a reason.
func describe(reason string) string {
	switch reason {
	case ReasonEmpty:
		return "amount is empty"
	case ReasonNegative:
		return "amount must not be negative or signed"
	case ReasonExponent:
		return "exponent notation is not allowed, write a plain decimal"
	case ReasonNotFinite:
		return "amount must be a finite number"
	case ReasonLeadingZero:
		return "leading zeros are not allowed"
	case ReasonNotDecimal:
		return "amount must be a plain decimal number like 12.34 (no sign, spaces or other characters)"
	case ReasonTooManyDecimals:
		return "more decimal places than the currency allows"
	case ReasonZero:
		return "amount must be greater than zero"
	case ReasonTooLarge:
		return "amount is too large"
	default:
		return reason
	}
}

// maxQuoted is how many characters of the rejected input an error message
// quotes at most.
const maxQuoted = 40

// AmountError says why ParseAmount rejected a text. It matches
// ErrInvalidAmount with errors.Is; use errors.As to read the Reason.
type AmountError struct {
	// Reason is one of the Reason* codes.
	Reason string
	// Text is the rejected input, verbatim.
	Text string
	// Currency is the code of the currency the text was parsed for.
	Currency string
	// MinorUnits is that currency's number of minor-unit digits.
	MinorUnits int
}

// Error implements error. The message quotes at most 40 characters of the
// input.
func (e *AmountError) Error() string {
	desc := describe(e.Reason)
	switch e.Reason {
	case ReasonTooManyDecimals:
		desc = fmt.Sprintf("%s: %s allows at most %d", desc, e.Currency, e.MinorUnits)
	case ReasonTooLarge:
		desc = fmt.Sprintf("%s: at most %s %s", desc, formatMinor(MaxMinor, e.MinorUnits), e.Currency)
	}
	return fmt.Sprintf("invalid amount %s for %s: %s", quote(e.Text), e.Currency, desc)
}

// Is makes errors.Is(err, ErrInvalidAmount) true for every *AmountError.
func (e *AmountError) Is(target error) bool {
	return target == ErrInvalidAmount
}

// quote quotes at most maxQuoted characters of s, marking a cut with "...".
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	n := 0
	for i := range s {
		if n == maxQuoted {
			return fmt.Sprintf("%q...", s[:i])
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}

// ParseAmount parses text as a positive amount of cur, exactly, into minor
// units.
//
// text is either the literal text of a JSON number (as encoding/json gives it
// with Decoder.UseNumber) or the content of a JSON string. Only plain
// decimals are accepted: ^(0|[1-9][0-9]*)(\.[0-9]+)?$, with no surrounding
// whitespace. The fraction may have at most cur.MinorUnits digits (trailing
// zeros count: "1.0" is rejected for JPY), and the value must be in
// 1..MaxMinor minor units. Every rejection is an *AmountError (see the
// Reason* constants) matching ErrInvalidAmount.
//
// cur must come from LookupCurrency; any other Currency yields an error
// wrapping ErrUnknownCurrency.
func ParseAmount(text string, cur Currency) (Amount, error) {
	if known, ok := LookupCurrency(cur.Code); !ok || known != cur {
		return Amount{}, fmt.Errorf("money: parsing amount in %q: %w", cur.Code, ErrUnknownCurrency)
	}
	fail := func(reason string) (Amount, error) {
		return Amount{}, &AmountError{Reason: reason, Text: text, Currency: cur.Code, MinorUnits: cur.MinorUnits}
	}

	if text == "" {
		return fail(ReasonEmpty)
	}
	if text[0] == '-' {
		return fail(ReasonNegative)
	}
	if isNonFinite(text) {
		return fail(ReasonNotFinite)
	}

	// Split into integer and fraction digits, checking the grammar.
	intPart, fracPart, hasDot := text, "", false
	if i := strings.IndexByte(text, '.'); i >= 0 {
		intPart, fracPart, hasDot = text[:i], text[i+1:], true
	}
	if intPart == "" || !allDigits(intPart) || (hasDot && (fracPart == "" || !allDigits(fracPart))) {
		if looksLikeExponent(text) {
			return fail(ReasonExponent)
		}
		return fail(ReasonNotDecimal)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return fail(ReasonLeadingZero)
	}
	if len(fracPart) > cur.MinorUnits {
		return fail(ReasonTooManyDecimals)
	}

	// The value in minor units is the digits of intPart followed by
	// fracPart padded with zeros to the currency's scale. Count its
	// significant digits before converting so nothing can overflow.
	sig := strings.TrimLeft(intPart+fracPart, "0")
	if sig == "" {
		return fail(ReasonZero)
	}
	pad := cur.MinorUnits - len(fracPart)
	if len(sig)+pad > maxMinorDigits {
		return fail(ReasonTooLarge)
	}
	var minor int64
	for i := 0; i < len(sig); i++ {
		minor = minor*10 + int64(sig[i]-'0')
	}
	for ; pad > 0; pad-- {
		minor *= 10
	}
	// len(sig)+pad <= 15 digits, so minor <= MaxMinor already; keep the
	// invariant explicit.
	if minor < 1 || minor > MaxMinor {
		return fail(ReasonTooLarge)
	}
	return Amount{Minor: minor, Currency: cur}, nil
}

// allDigits reports whether s is non-empty ASCII digits only.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNonFinite reports whether s (with an optional leading '+') spells NaN or
// an infinity, in any letter case.
func isNonFinite(s string) bool {
	s = strings.TrimPrefix(s, "+")
	return strings.EqualFold(s, "nan") || strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity")
}

// looksLikeExponent reports whether s is made only of characters that can
// appear in a number with an exponent and does contain an 'e' or 'E' after a
// digit, such as "1e2", "1.5E-3" or "1e400".
func looksLikeExponent(s string) bool {
	e := strings.IndexAny(s, "eE")
	if e < 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return false
		}
	}
	c := s[e-1]
	return c >= '0' && c <= '9' || c == '.'
}
