// Command smoke proves a running payhook end to end, as its providers see it: a signed
// webhook of every configured scheme is accepted and accounted and moves the provider's daily
// total; a duplicate is 200 duplicate, a conflicting payload 409, an invalid one 400, a bad
// signature 401. A provider that posts events (Stripe's, Standard Webhooks envelopes) gets a
// payment, its redelivery, a partial refund and an event that moves no money, and its
// ledger and daily credit, debit and net must move exactly. One line per check; exit
// status 1 if any fails.
//
//	go run ./services/tools/smoke -env local            # the local stack (.payhook/local.json)
//	go run ./services/tools/smoke -env staging          # a deployed env (stack outputs; see probe.Deployed)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/payhook/payhook/services/internal/probe"
)

func main() {
	env, state := probe.TargetFlags(flag.CommandLine)
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for accounting")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t, err := probe.Find(ctx, *env, *state)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(1)
	}
	failed := Run(ctx, probe.NewClient(t), *wait, os.Stdout)
	if failed > 0 {
		fmt.Printf("smoke: %d check(s) failed against %s\n", failed, t.Endpoint)
		os.Exit(1)
	}
	fmt.Printf("smoke: all checks passed against %s\n", t.Endpoint)
}

// checker prints one line per check and counts failures.
type checker struct {
	out    *os.File
	failed int
}

func (c *checker) check(name string, err error) bool {
	if err != nil {
		c.failed++
		fmt.Fprintf(c.out, "FAIL %-48s %v\n", name, err)
		return false
	}
	fmt.Fprintf(c.out, "ok   %s\n", name)
	return true
}

func expect(r probe.Response, err error, status int, field string) error {
	if err != nil {
		return err
	}
	if err := r.Want(status); err != nil {
		return err
	}
	if field != "" && r.Body[field] == nil {
		return fmt.Errorf("answer lacks %q: %s", field, r)
	}
	return nil
}

// Run runs every check and returns the number that failed.
func Run(ctx context.Context, c *probe.Client, wait time.Duration, out *os.File) int {
	ck := &checker{out: out}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	const currency = "EUR"
	var accepted []sent
	for _, p := range c.Target.Providers {
		if p.Scheme != "none" && p.Secret == "" {
			ck.check("signed webhook ("+p.Name+", "+p.Scheme+")", fmt.Errorf("no signing secret for %s", p.Name))
			continue
		}
		if p.Events() {
			eventChecks(ctx, ck, c, p, run, wait)
			continue
		}
		before, err := c.Total(ctx, p.Name, currency)
		if !ck.check("read daily total ("+p.Name+")", err) {
			continue
		}
		id := "smoke-" + run + "-" + p.Name
		r, err := c.Send(ctx, p, probe.Payload(p.Name, id, "1.23", currency))
		if ck.check(fmt.Sprintf("signed webhook accepted (%s, %s)", p.Name, p.Scheme), expect(r, err, 200, "status")) {
			accepted = append(accepted, sent{p: p, id: id, before: before.TotalMinor})
		}
	}
	if len(accepted) == 0 {
		for _, p := range c.Target.Providers {
			if !p.Events() {
				ck.check("at least one provider of payhook's flat notification accepted", fmt.Errorf("none"))
				break
			}
		}
		return ck.failed
	}
	first := accepted[0]
	r, err := c.Send(ctx, first.p, probe.Payload(first.p.Name, first.id, "1.23", currency))
	if e := expect(r, err, 200, "status"); e == nil && r.Body["status"] != "duplicate" {
		err = fmt.Errorf("status %v, want duplicate", r.Body["status"])
	} else {
		err = e
	}
	ck.check("duplicate answered 200 duplicate", err)
	r, err = c.Send(ctx, first.p, probe.Payload(first.p.Name, first.id, "9.99", currency))
	ck.check("conflicting payload answered 409", expect(r, err, 409, "error"))
	r, err = c.Send(ctx, first.p, probe.Payload(first.p.Name, "smoke-"+run+"-bad", "1.001", "USD"))
	if e := expect(r, err, 400, "field"); e == nil && r.Body["field"] != "amount" {
		err = fmt.Errorf("field %v, want amount", r.Body["field"])
	} else {
		err = e
	}
	ck.check("invalid amount answered 400 naming the field", err)
	for _, s := range accepted {
		if s.p.Scheme == "none" {
			continue
		}
		forged := s.p
		forged.Secret = "whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3Itc21va2UtdGVzdHMh"
		if forged.Scheme == "stripe" {
			forged.Secret = "whsec_forged"
		}
		r, err = c.Send(ctx, forged, probe.Payload(s.p.Name, "smoke-"+run+"-forged", "1.00", currency))
		ck.check("forged signature answered 401 ("+s.p.Name+")", expect(r, err, 401, "error"))
		break
	}
	accountedChecks(ctx, ck, c, accepted, wait)
	return ck.failed
}

// sent is a flat notification that was accepted, with its provider's total before it.
type sent struct {
	p      probe.Provider
	id     string
	before int64
}

// accountedChecks waits for each accepted notification to be accounted and checks that its
// provider's daily total moved by it.
func accountedChecks(ctx context.Context, ck *checker, c *probe.Client, accepted []sent, wait time.Duration) {
	const currency = "EUR"
	for _, s := range accepted {
		_, err := c.WaitStatus(ctx, s.p.Name, s.id, "accounted", wait)
		if !ck.check("accounted ("+s.p.Name+")", err) {
			continue
		}
		after, err := c.Total(ctx, s.p.Name, currency)
		if err == nil {
			delta := after.TotalMinor - s.before
			switch {
			case c.Target.Env == "local" && delta != 123:
				err = fmt.Errorf("daily total moved by %d minor units, want exactly 123", delta)
			case delta < 123:
				err = fmt.Errorf("daily total moved by %d minor units, want at least 123", delta)
			}
		}
		ck.check("daily total moved by 1.23 "+currency+" ("+s.p.Name+")", err)
	}
}
