// Command failures lists the notifications recorded as failed in an env: why each failed
// (the reason notify-failures recorded), its provider, transaction, amount, when it was
// received, how many times its message was received before it died, and whether it was
// replayed. Read it before running replay: it shows what replay would put back, and a cause
// replay cannot fix.
//
//	go run ./services/tools/failures -env local           # the local stack (.payhook/local.json)
//	go run ./services/tools/failures -env prod -json      # a deployed env (its stack outputs)
//
// It lists the FAILED list (what replay puts back); -replayed adds the transactions replayed
// and not yet accounted, -unlinked the dead messages tied to no transaction (FAILURE#
// items, found by scanning the whole table).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/probe"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/tools/internal/opsenv"
)

// options are the command's flags.
type options struct {
	env, state string
	query      store.FailureQuery
	json       bool
}

func main() {
	var o options
	env, state := probe.TargetFlags(flag.CommandLine)
	flag.IntVar(&o.query.Limit, "limit", 100, "most failures to list")
	flag.BoolVar(&o.json, "json", false, "print JSON instead of a table")
	flag.BoolVar(&o.query.Replayed, "replayed", false, "also list transactions replayed and not yet accounted (reads every in-flight record)")
	flag.BoolVar(&o.query.Unlinked, "unlinked", false, "also list dead messages tied to no transaction (FAILURE# items: scans the whole table)")
	opsenv.Main("failures", func(ctx context.Context) error {
		o.env, o.state = *env, *state
		return run(ctx, o, os.Stdout)
	})
}

// Report is the -json output.
type Report struct {
	Env      string          `json:"env"`
	Count    int             `json:"count"`
	Failures []store.Failure `json:"failures"`
}

func run(ctx context.Context, o options, w io.Writer) error {
	if o.query.Limit < 1 {
		return fmt.Errorf("-limit %d: want at least 1", o.query.Limit)
	}
	t, err := opsenv.Open(ctx, o.env, o.state)
	if err != nil {
		return err
	}
	list, err := t.Store.Failures(ctx, o.query)
	if err != nil {
		return fmt.Errorf("env %s: %w", t.Env, err)
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(Report{Env: t.Env, Count: len(list), Failures: list})
	}
	return printTable(w, t.Env, o.query, list)
}

// printTable prints list as an aligned table, then a count and what was not looked at.
func printTable(w io.Writer, env string, q store.FailureQuery, list []store.Failure) error {
	if len(list) == 0 {
		fmt.Fprintln(w, "no failures recorded")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RECEIVED (UTC)\tPROVIDER\tTRANSACTION\tAMOUNT\tRECEIVES\tREPLAYED\tREASON")
		for _, f := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", when(f.ReceivedAt), orDash(f.Provider), orDash(f.TransactionID),
				amount(f), f.ReceiveCount, replayed(f), oneLine(f.Reason))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("print: %w", err)
		}
		fmt.Fprintf(w, "%d %s", len(list), plural(len(list), "failure", "failures"))
		if len(list) == q.Limit {
			fmt.Fprintf(w, " (the first %d: raise -limit for more)", q.Limit)
		}
		fmt.Fprintln(w)
	}
	scope, more := "the FAILED list", []string{}
	if q.Replayed {
		scope += " and replays not yet accounted"
	} else {
		more = append(more, "-replayed adds replays not yet accounted")
	}
	if !q.Unlinked {
		more = append(more, "-unlinked adds dead messages tied to no transaction")
	}
	if len(more) > 0 {
		fmt.Fprintf(w, "(env %s: %s; %s; `go run mage.go failures ALL=1` adds both)\n", env, scope, strings.Join(more, "; "))
	}
	return nil
}

// replayed says whether f was replayed.
func replayed(f store.Failure) string {
	switch {
	case f.Status == store.FailureUnlinked:
		return "not replayable"
	case f.Status == store.StatusReplayed:
		return "yes, not accounted yet"
	case f.Replayed:
		return fmt.Sprintf("yes (%d), failed again", f.ReplayCount)
	default:
		return "no"
	}
}

// amount is f's amount in major units with its currency, or minor units when the currency is
// not in the ISO 4217 table.
func amount(f store.Failure) string {
	if f.Currency == "" {
		return "-"
	}
	cur, ok := money.LookupCurrency(f.Currency)
	if !ok {
		return fmt.Sprintf("%d minor %s", f.AmountMinor, f.Currency)
	}
	return money.Amount{Minor: f.AmountMinor, Currency: cur}.String()
}

// when shortens a stored time to the second.
func when(stored string) string {
	at, err := time.Parse(store.TimeLayout, stored)
	if err != nil {
		return orDash(stored)
	}
	return at.Format(time.DateTime)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a reason on its table row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
