// Package main is the reconciler: run on a schedule (EventBridge, every minute), it sends to
// the accounting queue
//
//   - every transaction whose send ingest could not confirm (the outbox), so a notification
//     answered 2xx (or stored before a 503) reaches accounting even if the queue was down and
//     the provider never retries; and
//   - every transaction last sent to the queue more than UNACCOUNTED_AFTER ago and still not
//     accounted, so a message that disappeared without reaching the DLQ (retention expiry
//     while accounting was throttled or disabled, a purge, a replaced queue) is not lost.
//     The stack derives the bound from the env: the queue's retention period plus visibility
//     timeout × maxReceiveCount plus a margin, so a message that is only waiting in a slow
//     queue is never sent twice.
//
// Each run reports OldestUnaccountedAgeSeconds (EMF): how long the oldest waiting record has
// waited since it was received (outbox) or last sent (in flight), even when a sweep fails.
// The stack alarms on it once every receive would have timed out. See services/ingest for
// the whole mechanism.
package main

import (
	"context"
	"fmt"
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
	// Grace is how long a record waits unaccounted on the outbox before it is sent again
	// (the stack sets it from the env: stacks/payments OutboxGraceSeconds).
	Grace time.Duration `envconfig:"OUTBOX_GRACE" default:"30s"`
	// Limit bounds each of the two sweeps of one run.
	Limit int `envconfig:"OUTBOX_LIMIT" default:"500"`
	// UnaccountedAfter is how long after its send a transaction may stay unaccounted before
	// it is sent again.
	UnaccountedAfter time.Duration `envconfig:"UNACCOUNTED_AFTER" required:"true"`
	// Env names the environment in metrics.
	Env string `envconfig:"PAYHOOK_ENV" default:"unknown"`
}

// Validate refuses settings that would make the reconciler silently do nothing or re-send
// everything at once.
func (c Config) Validate() error {
	switch {
	case c.Limit <= 0:
		return fmt.Errorf("OUTBOX_LIMIT: must be at least 1, got %d (the sweeps would do nothing)", c.Limit)
	case c.Grace < 0:
		return fmt.Errorf("OUTBOX_GRACE: must not be negative, got %s", c.Grace)
	case c.UnaccountedAfter < time.Minute:
		return fmt.Errorf("UNACCOUNTED_AFTER: must be at least 1m, got %s (every message in flight would be sent again)", c.UnaccountedAfter)
	}
	return nil
}

// Handler runs both sweeps per invocation.
type Handler struct {
	// Relay sends records to the queue.
	Relay *relay.Relay
	// Grace leaves younger outbox records to their ingest request; UnaccountedAfter is the
	// bound after which a sent record is sent again; Limit bounds each sweep.
	Grace, UnaccountedAfter time.Duration
	Limit                   int
	// Log and Metrics receive structured logs and EMF metrics.
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Sweep is what one run did.
type Sweep struct {
	// Outbox is the sweep of records whose send was never confirmed.
	Outbox relay.Result `json:"outbox"`
	// Unaccounted is the sweep of records sent but not accounted within the bound.
	Unaccounted relay.Result `json:"unaccounted"`
	// OldestUnaccountedSeconds is the age of the oldest record still waiting for
	// accounting, after the sweeps (0 when none).
	OldestUnaccountedSeconds float64 `json:"oldest_unaccounted_seconds"`
}

// Handle runs the sweeps. A failed sweep returns an error (the scheduled invocation is
// retried and the function's error alarm fires); records stay listed until sent.
func (h *Handler) Handle(ctx context.Context) (sw Sweep, err error) {
	// Reported on every path: a failing sweep is exactly when the age must not go missing.
	defer func() {
		oldest, oerr := h.Relay.Store.OldestUnaccounted(ctx)
		if oerr != nil {
			h.Log.Error("oldest unaccounted age unknown", "err", oerr.Error())
			if err == nil {
				err = oerr
			}
			return
		}
		if !oldest.IsZero() {
			sw.OldestUnaccountedSeconds = max(0, h.now().Sub(oldest).Seconds())
		}
		h.Metrics.Gauge("OldestUnaccountedAgeSeconds", sw.OldestUnaccountedSeconds, "Seconds", nil)
	}()
	if sw.Outbox, err = h.sweep("outbox", "OutboxRelayed", "sent stranded notifications", func() (relay.Result, error) {
		return h.Relay.Outbox(ctx, h.Grace, h.Limit)
	}); err != nil {
		return sw, err
	}
	sw.Unaccounted, err = h.sweep("unaccounted", "UnaccountedResent", "sent notifications again that were not accounted in time", func() (relay.Result, error) {
		return h.Relay.Unaccounted(ctx, h.UnaccountedAfter, h.Limit)
	})
	return sw, err
}

// sweep runs one sweep, counts what it sent in metric, and logs a failure or what it found.
func (h *Handler) sweep(name, metric, found string, run func() (relay.Result, error)) (relay.Result, error) {
	res, err := run()
	h.Metrics.Count(metric, res.Sent, nil)
	if err != nil {
		h.Log.Error(name+" sweep failed", "found", res.Found, "sent", res.Sent, "err", err.Error())
		return res, err
	}
	if res.Found > 0 {
		h.Log.Warn(name+" sweep "+found, "found", res.Found, "sent", res.Sent)
	}
	return res, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
