package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/payhook/payhook/services/internal/payload"
	"github.com/payhook/payhook/services/internal/store"
)

// handleEvent takes one delivery of a provider that posts events: signature, decoding,
// livemode, then one record per (provider, event id). An event that moves no money is
// recorded and answered 200 "ignored", so the provider neither retries it nor disables
// the endpoint.
func (h *Handler) handleEvent(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest, provider string, decode payload.Decoder) (int, response, []any) {
	attrs := []any{"provider", provider}
	headers, body, rej := h.read(req)
	if rej != nil {
		return rej.status, rej.body, attrs
	}
	if rej := h.verify(ctx, log, h.Providers[provider], provider, headers, body); rej != nil {
		return rej.status, rej.body, attrs
	}
	ev, ferr := decode(body, headers)
	if ferr != nil {
		return http.StatusBadRequest, errResponse(ferr), attrs
	}
	attrs = append(attrs, "event_id", ev.ID, "event_type", ev.Type)
	if ev.Livemode != nil && *ev.Livemode != h.Live {
		h.Metrics.Count("LivemodeMismatch", 1, map[string]string{"Provider": provider})
		msg := "a test-mode event (livemode false) sent to a live environment"
		if *ev.Livemode {
			msg = "a live event (livemode true) sent to an environment that is not live"
		}
		return http.StatusUnprocessableEntity, response{Error: "livemode_mismatch", Field: "livemode", EventID: ev.ID, Message: msg}, attrs
	}
	if ev.Unmapped {
		h.Metrics.Count("UnmappedEventType", 1, map[string]string{"Provider": provider})
		log.Warn("event type in none of the mapping's lists: ignored", attrs...)
	}
	rec := store.NewEventRecord(provider, ev, ev.Hash(provider), req.RequestContext.RequestID, h.now())
	outcome, existing, err := h.Store.Insert(ctx, rec)
	if err == nil && outcome == store.Conflict && existing.EventType == ev.Type {
		outcome, existing, err = h.reclassified(ctx, rec, ev, existing)
	}
	if err != nil {
		log.Error("store event failed", append(attrs, "err", err.Error())...)
		rej := unavailable("store")
		return rej.status, rej.body, attrs
	}
	ok := response{Status: "accepted", EventID: ev.ID, EventType: ev.Type, TransactionID: ev.TransactionID}
	switch {
	case outcome == store.Conflict:
		return http.StatusConflict, response{Error: "conflict", Field: "id", EventID: ev.ID,
			Message: "this event id was already received with a different event"}, attrs
	case ev.Kind == payload.Ignored:
		ok.Status = "ignored"
		return http.StatusOK, ok, attrs
	case outcome == store.Duplicate:
		ok.Status = "duplicate"
		if !existing.Pending() {
			return http.StatusOK, ok, attrs
		}
		rec = *existing
	}
	if rej := h.enqueue(ctx, log, &rec, attrs); rej != nil {
		return rej.status, rej.body, attrs
	}
	return http.StatusOK, ok, attrs
}

// reclassified settles a redelivery whose event the provider's format now reads another
// way than when it was recorded (an operator mapped a type, or changed a Stripe choice):
// an event recorded as ignored that now moves money replaces its record and is counted
// (a provider asked to resend it must not get 409 forever); one that moved money and is
// now ignored was counted already. Anything else stays a conflict.
func (h *Handler) reclassified(ctx context.Context, rec store.Transaction, ev payload.Event, existing *store.Transaction) (store.InsertOutcome, *store.Transaction, error) {
	switch {
	case existing.Status == store.StatusIgnored && ev.Kind != payload.Ignored:
		promoted, err := h.Store.Promote(ctx, rec, existing.PayloadHash)
		if err != nil || promoted {
			return store.Inserted, &rec, err
		}
		return h.Store.Insert(ctx, rec) // promoted concurrently: now a duplicate
	case existing.Status != store.StatusIgnored && existing.Kind != string(payload.Ignored) && ev.Kind == payload.Ignored:
		return store.Duplicate, existing, nil
	}
	return store.Conflict, existing, nil
}
