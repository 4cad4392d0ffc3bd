// Package main is the accounting function: SQS batches (ReportBatchItemFailures) → for each
// message, one DynamoDB transaction that moves its record to accounted and adds its amount
// to the provider's per-currency daily total, both exactly once.
//
// A redelivered message finds the record accounted and succeeds without changing anything.
// A message that cannot be processed (poison body, unknown transaction, payload mismatch,
// overflow, a failed DynamoDB call) is reported as a batch item failure: SQS makes it
// visible again and, after maxReceiveCount receives, moves it to the DLQ, where
// notify-failures records it. Nothing is swallowed and one bad message never fails the
// rest of the batch.
package main

import (
	"context"
	"log/slog"
	"sort"
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

// Handle processes one SQS batch and reports the messages that failed.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	accounted, redelivered, deferred := 0, 0, 0
	moved := map[movedKey]int64{}
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
	for i, rec := range ev.Records {
		if nearDeadline(ctx) {
			// Too little time left to account another message: give the rest back for
			// redelivery rather than start calls that the deadline will cut (and count as
			// accounting failures, which page).
			for _, left := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: left.MessageId})
			}
			deferred = len(ev.Records) - i
			base.Warn("deadline near: messages left for redelivery", "deferred", deferred)
			break
		}
		log := base.With("message_id", rec.MessageId)
		m, err := notification.ParseMessage(rec.Body)
		if err != nil {
			log.Error("poison message", "err", err.Error(), "receive_count", rec.Attributes["ApproximateReceiveCount"])
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		log = log.With("provider", m.Provider, "transaction_id", m.TransactionID)
		outcome, mv, err := h.Store.AccountMoved(ctx, m)
		if err != nil && ctx.Err() != nil {
			// Cut by the deadline, not failed: back for redelivery, nothing noted.
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			deferred++
			log.Warn("deadline reached: message left for redelivery")
			continue
		}
		if err != nil {
			log.Error("accounting failed", "err", err.Error(), "receive_count", rec.Attributes["ApproximateReceiveCount"])
			if nerr := h.Store.NoteError(ctx, m.Provider, m.TransactionID, err.Error()); nerr != nil {
				log.Warn("could not note the error on the record", "err", nerr.Error())
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		if outcome == store.AlreadyAccounted {
			redelivered++
			log.Info("redelivery of an accounted transaction: no change")
			continue
		}
		accounted++
		if mv.Kind != "" {
			moved[movedKey{m.Provider, m.Currency, mv.Kind}] += mv.AmountMinor
		}
		log.Info("accounted", "amount_minor", m.AmountMinor, "currency", m.Currency)
	}
	h.emitMoved(moved)
	h.Metrics.Count("Accounted", accounted, nil)
	h.Metrics.Count("Redelivered", redelivered, nil)
	h.Metrics.Count("AccountingFailed", len(resp.BatchItemFailures)-deferred, nil)
	h.Metrics.Count("Deferred", deferred, nil)
	return resp, nil
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
	keys := make([]movedKey, 0, len(moved))
	for k := range moved {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.provider+a.currency+a.kind < b.provider+b.currency+b.kind
	})
	for _, k := range keys {
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
