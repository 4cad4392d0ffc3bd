package money

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustCurrency looks a code up and fails the test when it is missing.
func mustCurrency(t testing.TB, code string) Currency {
	t.Helper()
	cur, ok := LookupCurrency(code)
	require.Truef(t, ok, "currency %s must be in the table", code)
	return cur
}

func TestLookupCurrencyMinorUnits(t *testing.T) {
	tests := []struct {
		code  string
		minor int
	}{
		{"JPY", 0}, {"KRW", 0}, {"CLP", 0}, {"ISK", 0}, {"VND", 0}, {"UGX", 0},
		{"PYG", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"UYI", 0}, {"BIF", 0},
		{"DJF", 0}, {"GNF", 0}, {"KMF", 0}, {"RWF", 0}, {"VUV", 0},
		{"BHD", 3}, {"KWD", 3}, {"TND", 3}, {"IQD", 3}, {"JOD", 3}, {"LYD", 3}, {"OMR", 3},
		{"RSD", 2}, {"HUF", 2}, {"ALL", 2}, {"IDR", 2}, {"USD", 2}, {"EUR", 2},
		{"GBP", 2}, {"CHF", 2}, {"MGA", 2}, {"MRU", 2},
		// Fund codes.
		{"CLF", 4}, {"UYW", 4}, {"BOV", 2}, {"CHE", 2}, {"CHW", 2}, {"COU", 2},
		{"MXV", 2}, {"USN", 2}, {"XAD", 2},
		// Recent codes.
		{"XCG", 2}, {"ZWG", 2}, {"VES", 2}, {"VED", 2}, {"SLE", 2}, {"STN", 2},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			cur, ok := LookupCurrency(tt.code)
			require.True(t, ok)
			assert.Equal(t, tt.code, cur.Code)
			assert.Equal(t, tt.minor, cur.MinorUnits)
			assert.NotEmpty(t, cur.Name)
		})
	}
}

func TestLookupCurrencyNames(t *testing.T) {
	tests := map[string]string{
		"USD": "US Dollar",
		"EUR": "Euro",
		"JPY": "Yen",
		"XCG": "Caribbean Guilder",
		"ZWG": "Zimbabwe Gold",
	}
	for code, name := range tests {
		assert.Equal(t, name, mustCurrency(t, code).Name, code)
	}
}

func TestLookupCurrencyNotFound(t *testing.T) {
	tests := []struct {
		name string
		code string
	}{
		{"empty", ""},
		{"lower case", "usd"},
		{"mixed case", "Usd"},
		{"two letters", "US"},
		{"four letters", "USDX"},
		{"padded", " USD"},
		{"trailing space", "USD "},
		{"digits", "840"},
		{"non-ASCII", "ÜSD"},
		{"never assigned", "ZZZ"},
		// Withdrawn (ISO 4217 List Three).
		{"Croatian kuna", "HRK"},
		{"old leone", "SLL"},
		{"Netherlands Antillean guilder", "ANG"},
		{"Zimbabwe dollar", "ZWL"},
		{"Cuban convertible peso", "CUC"},
		{"Bulgarian lev", "BGN"},
		{"bolivar fuerte", "VEF"},
		{"old ouguiya", "MRO"},
		{"old dobra", "STD"},
		{"old Belarusian ruble", "BYR"},
		{"Lithuanian litas", "LTL"},
		// Minor unit N.A.
		{"gold", "XAU"},
		{"silver", "XAG"},
		{"platinum", "XPT"},
		{"palladium", "XPD"},
		{"SDR", "XDR"},
		{"sucre", "XSU"},
		{"ADB unit", "XUA"},
		{"bond unit XBA", "XBA"},
		{"bond unit XBB", "XBB"},
		{"bond unit XBC", "XBC"},
		{"bond unit XBD", "XBD"},
		{"testing", "XTS"},
		{"no currency", "XXX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, ok := LookupCurrency(tt.code)
			assert.False(t, ok)
			assert.Equal(t, Currency{}, cur)
		})
	}
}

func TestCurrencyTableSanity(t *testing.T) {
	all := Currencies()
	// ISO 4217 List One of 2026-01-01 has 165 distinct codes with numeric
	// minor units.
	assert.Len(t, all, 165)
	seen := make(map[string]bool, len(all))
	for i, cur := range all {
		assert.Regexp(t, `^[A-Z]{3}$`, cur.Code)
		assert.Falsef(t, seen[cur.Code], "duplicate code %s", cur.Code)
		seen[cur.Code] = true
		assert.GreaterOrEqual(t, cur.MinorUnits, 0, cur.Code)
		assert.LessOrEqual(t, cur.MinorUnits, 4, cur.Code)
		assert.NotEqual(t, 1, cur.MinorUnits, cur.Code, "no ISO currency has one minor digit")
		assert.NotEmpty(t, strings.TrimSpace(cur.Name), cur.Code)
		if i > 0 {
			assert.Lessf(t, all[i-1].Code, cur.Code, "table must be sorted at %d", i)
		}
		got, ok := LookupCurrency(cur.Code)
		assert.True(t, ok, cur.Code)
		assert.Equal(t, cur, got)
	}
}

func TestCurrenciesReturnsACopy(t *testing.T) {
	all := Currencies()
	all[0].MinorUnits = 9
	all[0].Code = "QQQ"
	again := Currencies()
	assert.NotEqual(t, "QQQ", again[0].Code)
	assert.NotEqual(t, 9, again[0].MinorUnits)
}

func TestAmountFormatting(t *testing.T) {
	tests := []struct {
		code    string
		minor   int64
		decimal string
	}{
		{"USD", 1234, "12.34"},
		{"USD", 1230, "12.30"},
		{"USD", 5, "0.05"},
		{"USD", 100, "1.00"},
		{"USD", 0, "0.00"},
		{"USD", -5, "-0.05"},
		{"USD", -1234, "-12.34"},
		{"USD", MaxMinor, "9999999999999.99"},
		{"USD", math.MinInt64, "-92233720368547758.08"},
		{"USD", math.MaxInt64, "92233720368547758.07"},
		{"JPY", 5, "5"},
		{"JPY", -5, "-5"},
		{"BHD", 1, "0.001"},
		{"BHD", 1234, "1.234"},
		{"CLF", 12345, "1.2345"},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.decimal, func(t *testing.T) {
			a := Amount{Minor: tt.minor, Currency: mustCurrency(t, tt.code)}
			assert.Equal(t, tt.decimal, a.Decimal())
			assert.Equal(t, tt.decimal+" "+tt.code, a.String())
		})
	}
}
