// Package relay puts stored transactions (back) on the accounting queue: the reconciler's
// sweeps of records whose send was never confirmed (the outbox) and of records sent but
// never accounted (a lost message), and the replay of records that died in the DLQ. Both send first and update the record second, so a crash in
// between only causes a second send, which accounting absorbs.
package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/payhook/payhook/services/internal/store"
)

// Sender is the SQS call relay needs.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Relay sends stored transactions to the queue.
type Relay struct {
	Store    *store.Store
	Queue    Sender
	QueueURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Result counts what a sweep did.
type Result struct {
	// Found is how many records were listed.
	Found int `json:"found"`
	// Sent is how many were put on the queue and updated.
	Sent int `json:"sent"`
}

// Outbox sends every transaction still pending on the outbox that was received more than
// grace ago (up to limit), then takes it off the outbox. The grace period leaves in-flight
// ingest requests to finish their own send.
func (r *Relay) Outbox(ctx context.Context, grace time.Duration, limit int) (Result, error) {
	pending, err := r.Store.PendingOutbox(ctx, r.now().Add(-grace), limit)
	if err != nil {
		return Result{}, fmt.Errorf("outbox sweep: %w", err)
	}
	return r.sweep(ctx, "outbox sweep", pending, r.Store.MarkEnqueued, nil)
}

// Unaccounted sends again every transaction that went to the queue more than after ago and
// is still not accounted (up to limit), and notes the re-send. Accounting counts a
// transaction once however many of its messages arrive, so a message that was only slow
// costs one extra receive, and one that was lost (expired, purged, a replaced queue) is
// recovered.
func (r *Relay) Unaccounted(ctx context.Context, after time.Duration, limit int) (Result, error) {
	stale, err := r.Store.Unaccounted(ctx, r.now().Add(-after), limit)
	if err != nil {
		return Result{}, fmt.Errorf("unaccounted sweep: %w", err)
	}
	// Accounted or failed since it was listed: done, not an error.
	return r.sweep(ctx, "unaccounted sweep", stale, r.Store.MarkResent, store.ErrNotInFlight)
}

// Replay puts up to limit failed transactions back on the main queue and marks them
// replayed; accounting then accepts them again.
func (r *Relay) Replay(ctx context.Context, limit int) (Result, error) {
	failed, err := r.Store.Failed(ctx, limit)
	if err != nil {
		return Result{}, fmt.Errorf("replay: %w", err)
	}
	// The list is an eventually consistent index: a record another run replayed (or that
	// accounting already took) is done, not an error.
	return r.sweep(ctx, "replay", failed, r.Store.MarkReplayed, store.ErrNotFailed)
}

// sweep sends each listed transaction to the queue, then marks it; a mark failing with done
// means another actor finished the record meanwhile, which is not an error.
func (r *Relay) sweep(ctx context.Context, what string, list []store.Transaction,
	mark func(ctx context.Context, provider, transactionID string) error, done error) (Result, error) {
	res := Result{Found: len(list)}
	for _, t := range list {
		if err := r.send(ctx, &t); err != nil {
			return res, fmt.Errorf("%s: %w", what, err)
		}
		if err := mark(ctx, t.Provider, t.TransactionID); err != nil && (done == nil || !errors.Is(err, done)) {
			return res, fmt.Errorf("%s: %w", what, err)
		}
		res.Sent++
	}
	return res, nil
}

func (r *Relay) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Relay) send(ctx context.Context, t *store.Transaction) error {
	return Send(ctx, r.Queue, r.QueueURL, t)
}

// Send puts t's queue message on the queue at queueURL. Ingest calls it for a new record;
// the sweep and the replay call it for stored ones.
func Send(ctx context.Context, q Sender, queueURL string, t *store.Transaction) error {
	_, err := q.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(t.Message().Body()),
	})
	if err != nil {
		return fmt.Errorf("send %s: %w", t.PK, err)
	}
	return nil
}
