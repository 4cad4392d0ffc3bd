// Package main is the outbox reconciler: run on a schedule (EventBridge, every minute), it
// sends to the accounting queue every transaction whose send ingest could not confirm, so a
// notification answered 2xx (or stored before a 503) reaches accounting even if the queue
// was down and the provider never retries. See services/ingest for the whole mechanism.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/telemetry"
)

// Config is the reconciler's environment.
type Config struct {
	// TableName is the DynamoDB table.
	TableName string `envconfig:"TABLE_NAME" required:"true"`
	// QueueURL is the accounting queue.
	QueueURL string `envconfig:"QUEUE_URL" required:"true"`
	// Grace is how long a pending record is left to its ingest request.
	Grace time.Duration `envconfig:"OUTBOX_GRACE" default:"30s"`
	// Limit bounds one sweep.
	Limit int `envconfig:"OUTBOX_LIMIT" default:"500"`
	// Env names the environment in metrics.
	Env string `envconfig:"PAYHOOK_ENV" default:"unknown"`
}

// Handler runs one sweep per invocation.
type Handler struct {
	// Relay sends pending records to the queue.
	Relay *relay.Relay
	// Grace leaves younger records to their ingest request; Limit bounds one sweep.
	Grace time.Duration
	Limit int
	// Log and Metrics receive structured logs and EMF metrics.
	Log     *slog.Logger
	Metrics *telemetry.Metrics
}

// Handle sweeps the outbox. A failed sweep returns an error (the scheduled invocation is
// retried and the function's error alarm fires); records stay pending until sent.
func (h *Handler) Handle(ctx context.Context) (relay.Result, error) {
	res, err := h.Relay.Outbox(ctx, h.Grace, h.Limit)
	h.Metrics.Count("OutboxRelayed", res.Sent, nil)
	if err != nil {
		h.Log.Error("outbox sweep failed", "found", res.Found, "sent", res.Sent, "err", err.Error())
		return res, err
	}
	if res.Found > 0 {
		h.Log.Warn("outbox sweep sent stranded notifications", "found", res.Found, "sent", res.Sent)
	}
	return res, nil
}
