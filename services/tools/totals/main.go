// Command totals prints the daily totals accounting keeps, per provider and currency, for
// one UTC day of receipt: the credits (payments: amount and count), the debits (refunds:
// amount and count) and the net, each in major units with the currency's ISO 4217 exponent
// and in the minor units stored.
//
//	go run ./services/tools/totals -env local                          # today (UTC), every provider
//	go run ./services/tools/totals -env prod -day 2026-12-01 -provider stripe -json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/probe"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/tools/internal/opsenv"
)

// options are the command's flags.
type options struct {
	env, state, day, provider string
	json                      bool
}

func main() {
	var o options
	env, state := probe.TargetFlags(flag.CommandLine)
	flag.StringVar(&o.day, "day", time.Now().UTC().Format(store.DayLayout), "UTC day of receipt, YYYY-MM-DD")
	flag.StringVar(&o.provider, "provider", "", "one provider (default: every provider of the env)")
	flag.BoolVar(&o.json, "json", false, "print JSON instead of a table")
	opsenv.Main("totals", func(ctx context.Context) error {
		o.env, o.state = *env, *state
		return run(ctx, o, os.Stdout)
	})
}

// Report is the -json output: the totals of Day for Providers, by provider then currency.
type Report struct {
	Env       string   `json:"env"`
	Day       string   `json:"day"`
	Providers []string `json:"providers"`
	Totals    []Total  `json:"totals"`
}

// Total is one provider's total in one currency: the stored attributes in minor units, and
// the same amounts in major units (Exponent fraction digits; absent, with the major amounts,
// for a currency no longer in the ISO 4217 table).
type Total struct {
	Provider   string `json:"provider"`
	Currency   string `json:"currency"`
	Exponent   *int   `json:"exponent,omitempty"`
	TotalMinor int64  `json:"total_minor"`
	TxnCount   int64  `json:"txn_count"`
	DebitMinor int64  `json:"debit_minor"`
	DebitCount int64  `json:"debit_count"`
	// NetMinor is total_minor - debit_minor, the net of the day whenever it was accounted;
	// StoredNetMinor is the stored net_minor when it differs (a day accounted partly before
	// net_minor was kept, which counts only what came after).
	NetMinor       int64  `json:"net_minor"`
	StoredNetMinor *int64 `json:"stored_net_minor,omitempty"`
	Credited       string `json:"credited,omitempty"`
	Debited        string `json:"debited,omitempty"`
	Net            string `json:"net,omitempty"`
}

func run(ctx context.Context, o options, w io.Writer) error {
	if _, err := time.Parse(store.DayLayout, o.day); err != nil {
		return fmt.Errorf("-day %q: want YYYY-MM-DD", o.day)
	}
	t, err := opsenv.Open(ctx, o.env, o.state)
	if err != nil {
		return err
	}
	providers := t.Providers
	if o.provider != "" {
		providers = []string{o.provider}
	}
	if len(providers) == 0 {
		return fmt.Errorf("no providers known for env %s: pass -provider NAME or set PAYHOOK_PROVIDERS", t.Env)
	}
	r := Report{Env: t.Env, Day: o.day, Providers: providers, Totals: []Total{}}
	for _, p := range providers {
		byCurrency, err := t.Store.DailyTotals(ctx, p, o.day)
		if err != nil {
			return fmt.Errorf("env %s: %w", t.Env, err)
		}
		r.Totals = append(r.Totals, totalsOf(p, byCurrency)...)
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return printTable(w, r)
}

// totalsOf are a provider's stored totals by currency code, as Totals sorted by code.
func totalsOf(provider string, byCurrency map[string]store.DailyTotal) []Total {
	codes := make([]string, 0, len(byCurrency))
	for c := range byCurrency {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := make([]Total, 0, len(codes))
	for _, c := range codes {
		d := byCurrency[c]
		t := Total{Provider: provider, Currency: c, TotalMinor: d.TotalMinor, TxnCount: d.Count,
			DebitMinor: d.DebitMinor, DebitCount: d.DebitCount, NetMinor: d.TotalMinor - d.DebitMinor}
		if d.NetMinor != t.NetMinor {
			stored := d.NetMinor
			t.StoredNetMinor = &stored
		}
		if cur, ok := money.LookupCurrency(c); ok {
			t.Exponent = &cur.MinorUnits
			t.Credited = money.Amount{Minor: t.TotalMinor, Currency: cur}.Decimal()
			t.Debited = money.Amount{Minor: t.DebitMinor, Currency: cur}.Decimal()
			t.Net = money.Amount{Minor: t.NetMinor, Currency: cur}.Decimal()
		}
		out = append(out, t)
	}
	return out
}

// printTable prints r as an aligned table (names left-aligned, amounts right-aligned), then
// a count and the providers without totals that day.
func printTable(w io.Writer, r Report) error {
	with := map[string]bool{}
	for _, t := range r.Totals {
		with[t.Provider] = true
	}
	var without []string
	for _, p := range r.Providers {
		if !with[p] {
			without = append(without, p)
		}
	}
	if len(r.Totals) == 0 {
		fmt.Fprintf(w, "no totals on %s (UTC) for %s in env %s\n", r.Day, strings.Join(r.Providers, ", "), r.Env)
		return nil
	}
	fmt.Fprintf(w, "env %s, %s (UTC day of receipt)\n", r.Env, r.Day)
	rows := [][]string{{"PROVIDER", "CURRENCY", "CREDITED", "(MINOR)", "COUNT", "DEBITED", "(MINOR)", "COUNT", "NET", "(MINOR)"}}
	notes := 0
	for _, t := range r.Totals {
		net := major(t.Net)
		if t.StoredNetMinor != nil {
			net, notes = net+" *", notes+1
		}
		rows = append(rows, []string{t.Provider, orDash(t.Currency), major(t.Credited), itoa(t.TotalMinor), itoa(t.TxnCount),
			major(t.Debited), itoa(t.DebitMinor), itoa(t.DebitCount), net, itoa(t.NetMinor)})
	}
	writeAligned(w, rows, 2)
	fmt.Fprintf(w, "%d %s for %d of %d providers\n", len(r.Totals), plural(len(r.Totals), "total", "totals"),
		len(r.Providers)-len(without), len(r.Providers))
	if len(without) > 0 {
		fmt.Fprintf(w, "no totals for %s\n", strings.Join(without, ", "))
	}
	if notes > 0 {
		fmt.Fprintln(w, "* credited - debited; the stored net_minor counts only what was accounted since it was introduced")
	}
	return nil
}

// writeAligned writes rows as columns two spaces apart: the first left columns
// left-aligned, the others right-aligned.
func writeAligned(w io.Writer, rows [][]string, left int) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(pad + cell)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// major is a major-unit amount, or "n/a" for a currency not in the ISO 4217 table.
func major(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
