package main

import (
	"context"
	"fmt"
	"time"

	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/probe"
	"github.com/payhook/payhook/services/internal/store"
)

// eventChecks proves a provider that posts events: a payment, its redelivery, a partial
// refund and an event that moves no money, then the payment's ledger and the day's totals
// net exactly 1.23 - 0.50.
func eventChecks(ctx context.Context, ck *checker, c *probe.Client, p probe.Provider, run string, wait time.Duration) {
	eur, _ := money.LookupCurrency("EUR")
	paid, refunded := money.Amount{Minor: 123, Currency: eur}, money.Amount{Minor: 50, Currency: eur}
	live := c.Target.Live
	name := fmt.Sprintf("(%s, %s)", p.Name, p.Format.Format)
	before, err := c.Total(ctx, p.Name, eur.Code)
	if !ck.check("read daily total "+name, err) {
		return
	}
	payID, refundID := "smoke-"+run+"-"+p.Name+"-pay", "smoke-"+run+"-"+p.Name+"-refund"
	deliver := func(check, id, status string, body []byte, err error) bool {
		if err != nil {
			return ck.check(check, err)
		}
		r, err := c.Deliver(ctx, p, id, body)
		if e := expect(r, err, 200, "status"); e != nil {
			return ck.check(check, e)
		}
		if r.Body["status"] != status {
			return ck.check(check, fmt.Errorf("status %v, want %s", r.Body["status"], status))
		}
		return ck.check(check, nil)
	}
	body, err := p.Credit(payID, paid, live)
	if !deliver("payment accepted "+name, payID, "accepted", body, err) {
		return
	}
	deliver("redelivered payment answered 200 duplicate "+name, payID, "duplicate", body, nil)
	body, err = p.Refund(refundID, payID, paid, refunded, live)
	refundSent := deliver("refund accepted "+name, refundID, "accepted", body, err)
	if p.Ignores() {
		body, err = p.Ignorable("smoke-"+run+"-"+p.Name+"-other", live)
		deliver("event that moves no money answered 200 ignored "+name, "smoke-"+run+"-"+p.Name+"-other", "ignored", body, err)
	}
	for _, id := range []string{payID, refundID} {
		if id == refundID && !refundSent {
			continue
		}
		_, err := c.WaitStatus(ctx, p.Name, id, store.StatusAccounted, wait)
		ck.check("accounted "+id, err)
	}
	ledger, err := c.Target.Store.GetLedger(ctx, p.Name, p.PaymentID(payID))
	if err == nil && (ledger == nil || ledger.NetMinor() != 73) {
		err = fmt.Errorf("payment ledger %+v, want credited 123, refunded 50", ledger)
	}
	ck.check("payment nets 1.23 - 0.50 EUR "+name, err)
	after, err := c.Total(ctx, p.Name, eur.Code)
	if err == nil {
		moved := [3]int64{after.TotalMinor - before.TotalMinor, after.DebitMinor - before.DebitMinor, after.NetMinor - before.NetMinor}
		if c.Target.Env == "local" && moved != [3]int64{123, 50, 73} {
			err = fmt.Errorf("daily totals moved by credit %d, debit %d, net %d minor units; want 123, 50, 73", moved[0], moved[1], moved[2])
		}
	}
	ck.check("daily credit, debit and net moved by 1.23, 0.50 and 0.73 EUR "+name, err)
}
