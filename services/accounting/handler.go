// Package main is the accounting function: SQS batches (ReportBatchItemFailures) → one
// DynamoDB transaction that moves the batch's records to accounted and adds their amounts
// to each provider's per-currency daily total once, all exactly once (a message the batch
// transaction cannot take is accounted alone, in a transaction of its own).
//
// A redelivered message finds the record accounted and succeeds without changing anything.
// A message that cannot be processed (poison body, unknown transaction, payload mismatch,
// overflow, a failed DynamoDB call) is reported as a batch item failure: SQS makes it
// visible again and, after maxReceiveCount receives, moves it to the DLQ, where
// notify-failures records it. Nothing is swallowed and one bad message never fails the
// rest of the batch.
package main

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

// Config is accounting's environment.
type Config struct {
	// TableName is the DynamoDB table.
	TableName string `envconfig:"TABLE_NAME" required:"true"`
	// Env names the environment in metrics.
	Env string `envconfig:"PAYHOOK_ENV" default:"unknown"`
}

// Handler accounts queue messages.
type Handler struct {
	// Store is the table.
	Store *store.Store
	// Log and Metrics receive structured logs and EMF metrics.
	Log     *slog.Logger
	Metrics *telemetry.Metrics
}

// Handle processes one SQS batch and reports the messages that failed. Its flat
// notifications are accounted in one transaction (store.AccountBatch); on success it writes
// one log line for the whole batch, and one per message it could not account.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	fail := func(id string) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	base := h.Log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		base = base.With("request_id", lc.AwsRequestID)
	}
	// Work to a deadline short of Lambda's: a call in flight is cut in time for the batch's
	// answer to be returned (a timed-out invocation returns nothing, so every message of the
	// batch, accounted or not, would be received again).
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-DeadlineMargin/2))
		defer cancel()
	}
	if nearDeadline(ctx) {
		// Too little time left to account the batch: give it back for redelivery rather
		// than start calls that the deadline will cut (and count as accounting failures,
		// which page).
		for _, rec := range ev.Records {
			fail(rec.MessageId)
		}
		base.Warn("deadline near: messages left for redelivery", "deferred", len(ev.Records))
		h.emitCounts(tally{deferred: len(ev.Records)})
		return resp, nil
	}
	var recs []events.SQSMessage
	var msgs []notification.Message
	n := tally{moved: map[movedKey]int64{}}
	for _, rec := range ev.Records {
		m, err := notification.ParseMessage(rec.Body)
		if err != nil {
			base.Error("poison message", "message_id", rec.MessageId, "err", err.Error(), "receive_count", rec.Attributes["ApproximateReceiveCount"])
			fail(rec.MessageId)
			n.failed++
			continue
		}
		recs, msgs = append(recs, rec), append(msgs, m)
	}
	for i, r := range h.Store.AccountBatch(ctx, msgs) {
		rec, m := recs[i], msgs[i]
		log := base.With("message_id", rec.MessageId, "provider", m.Provider, "transaction_id", m.TransactionID)
		switch {
		case r.Err != nil && ctx.Err() != nil:
			// Cut by the deadline, not failed: back for redelivery, nothing noted.
			fail(rec.MessageId)
			n.deferred++
			log.Warn("deadline reached: message left for redelivery")
		case r.Err != nil:
			log.Error("accounting failed", "err", r.Err.Error(), "receive_count", rec.Attributes["ApproximateReceiveCount"])
			if nerr := h.Store.NoteError(ctx, m.Provider, m.TransactionID, r.Err.Error()); nerr != nil {
				log.Warn("could not note the error on the record", "err", nerr.Error())
			}
			fail(rec.MessageId)
			n.failed++
		case r.Outcome == store.AlreadyAccounted:
			n.redelivered++
		default:
			n.accounted++
			if r.Moved.Kind != "" {
				n.moved[movedKey{m.Provider, m.Currency, r.Moved.Kind}] += r.Moved.AmountMinor
			}
		}
	}
	if n.accounted+n.redelivered > 0 {
		base.Info("batch accounted", "messages", len(ev.Records), "accounted", n.accounted, "redelivered", n.redelivered,
			"failed", n.failed, "deferred", n.deferred)
	}
	h.emitMoved(n.moved)
	h.emitCounts(n)
	return resp, nil
}

// tally counts what one batch did.
type tally struct {
	accounted, redelivered, failed, deferred int
	moved                                    map[movedKey]int64
}

// emitCounts emits the batch's counts, in one EMF record.
func (h *Handler) emitCounts(n tally) {
	h.Metrics.Counts(map[string]int{"Accounted": n.accounted, "Redelivered": n.redelivered,
		"AccountingFailed": n.failed, "Deferred": n.deferred}, nil)
}

// movedKey is what one batch's money metrics are summed by.
type movedKey struct{ provider, currency, kind string }

// movedMetric names the metric of what a kind of message moves, in minor units.
func movedMetric(kind string) string {
	if kind == notification.KindDebit {
		return "DebitedMinor"
	}
	return "CreditedMinor"
}

// emitMoved emits, per provider, currency and kind, what the batch added to the daily totals
// (the dashboard's money widget): exact minor units, one metric record per group.
func (h *Handler) emitMoved(moved map[movedKey]int64) {
	for _, k := range slices.SortedFunc(maps.Keys(moved), func(a, b movedKey) int {
		return cmp.Compare(a.provider+a.currency+a.kind, b.provider+b.currency+b.kind)
	}) {
		h.Metrics.Gauge(movedMetric(k.kind), float64(moved[k]), "None", map[string]string{"Provider": k.provider, "Currency": k.currency})
	}
}

// DeadlineMargin is the time an invocation keeps in hand: its calls stop half of it before
// Lambda's deadline, and with less than the other half left it gives the batch's remaining
// messages back for redelivery instead of starting them.
const DeadlineMargin = 500 * time.Millisecond

// nearDeadline reports whether ctx's (working) deadline is less than half DeadlineMargin away.
func nearDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < DeadlineMargin/2
}
