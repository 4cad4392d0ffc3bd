// Package sqspoll runs SQS event source mappings locally, as Lambda's pollers do: a
// Poller long-polls the queue, batches messages within the batching window, invokes the
// function with the SQS event Lambda builds, and deletes what succeeded (honouring
// ReportBatchItemFailures), leaving retries and dead-lettering to the queue.
package sqspoll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/sqsevent"
)

// EventSource is an SQS event source mapping.
type EventSource struct {
	LogicalID string
	// Function is the logical id of the function invoked.
	Function string
	// Queue is the logical id of the queue polled.
	Queue              string
	QueueURL, QueueARN string
	// BatchSize is the most records per invocation (10 when unset).
	BatchSize int
	// Window is MaximumBatchingWindowInSeconds.
	Window time.Duration
	// ReportBatchItemFailures is set when FunctionResponseTypes holds it.
	ReportBatchItemFailures bool
	// MaxConcurrency is ScalingConfig.MaximumConcurrency (0 when unset).
	MaxConcurrency int
}

// Poller runs an SQS event source mapping as Lambda does:
//
//   - long-polls ReceiveMessage (20 s, up to 10 messages a call, every system and
//     message attribute) and accumulates a batch of up to BatchSize messages within
//     MaximumBatchingWindowInSeconds (without a window, it invokes with what one call
//     returned);
//   - invokes the function with the events.SQSEvent that Lambda builds (sqsevent.FromSDK);
//   - on success deletes the batch, or with ReportBatchItemFailures every message except
//     the reported failures (a response naming an unknown or empty itemIdentifier fails
//     the whole batch, as in Lambda); on a function error deletes nothing.
//
// Messages not deleted become visible again after the queue's visibility timeout and,
// after maxReceiveCount receives, the queue's redrive policy moves them to the
// dead-letter queue: the queue emulator does that, not the poller.
type Poller struct {
	// Source is the event source mapping.
	Source EventSource
	// SQS receives and deletes messages.
	SQS *sqs.Client
	// Function is invoked with each batch.
	Function lambdarie.Invoker
	// Concurrency is the number of batches in flight at once (default 2; capped by
	// the mapping's MaximumConcurrency).
	Concurrency int
	// Log receives errors and a line per batch (nil: slog.Default()).
	Log *slog.Logger
	// WaitTime is the long-poll wait of ReceiveMessage (default 20 s).
	WaitTime time.Duration

	stats counters
}

// Stats counts what a poller did.
type Stats struct {
	Batches, Messages, Deleted, Failed, FunctionErrors, ReceiveErrors int
}

type counters struct {
	mu sync.Mutex
	Stats
}

// Stats returns the counters so far.
func (p *Poller) Stats() Stats {
	p.stats.mu.Lock()
	defer p.stats.mu.Unlock()
	return p.stats.Stats
}

func (p *Poller) count(f func(s *Stats)) {
	p.stats.mu.Lock()
	f(&p.stats.Stats)
	p.stats.mu.Unlock()
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

// Run polls until ctx is cancelled; a batch already received is still processed (its
// invocation and deletes are not cancelled) before Run returns.
func (p *Poller) Run(ctx context.Context) error {
	if p.SQS == nil || p.Function == nil {
		return errors.New("poller: SQS and Function are required")
	}
	// Lambda reads the queue's attributes, with the function's role, when it enables the
	// mapping; a role that may not (sqs:GetQueueAttributes) leaves the mapping disabled.
	if _, err := p.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(p.Source.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout}}); err != nil {
		return fmt.Errorf("poller %s: read the queue's attributes: %w", p.Source.LogicalID, err)
	}
	n := p.Concurrency
	if n <= 0 {
		n = 2
	}
	if p.Source.MaxConcurrency > 0 && p.Source.MaxConcurrency < n {
		n = p.Source.MaxConcurrency
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (p *Poller) loop(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		msgs, err := p.receiveBatch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.count(func(s *Stats) { s.ReceiveErrors++ })
			p.log().Warn("event source: receive failed", "event_source", p.Source.LogicalID, "queue", p.Source.QueueURL, "err", err.Error())
			backoff = min(max(2*backoff, 500*time.Millisecond), 10*time.Second)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		if len(msgs) == 0 {
			continue
		}
		// The batch was received: finish it even when shutting down, so that
		// successes are deleted and not redelivered.
		p.process(context.WithoutCancel(ctx), msgs)
	}
}

// receiveBatch long-polls for the first messages and then fills the batch within the
// batching window.
func (p *Poller) receiveBatch(ctx context.Context) ([]sqstypes.Message, error) {
	size := p.Source.BatchSize
	if size <= 0 {
		size = 10
	}
	wait := p.WaitTime
	if wait <= 0 {
		wait = 20 * time.Second
	}
	var batch []sqstypes.Message
	var deadline time.Time
	for {
		w := wait
		if len(batch) > 0 {
			w = time.Until(deadline)
		}
		msgs, err := p.receive(ctx, min(10, size-len(batch)), w)
		if err != nil {
			if len(batch) > 0 {
				return batch, nil // invoke with what was received
			}
			return nil, err
		}
		if len(batch) == 0 && len(msgs) > 0 {
			deadline = time.Now().Add(p.Source.Window)
		}
		batch = appendUnique(batch, msgs)
		if len(batch) == 0 {
			return nil, nil
		}
		if len(batch) >= size || p.Source.Window <= 0 || !time.Now().Before(deadline) {
			return batch, nil
		}
		if len(msgs) == 0 && time.Until(deadline) < time.Second {
			// Short polls inside the window's last second: don't spin.
			select {
			case <-ctx.Done():
				return batch, nil
			case <-time.After(min(50*time.Millisecond, time.Until(deadline))):
			}
		}
	}
}

// appendUnique adds msgs to batch; a message received again within the batching window
// (its visibility timeout expired meanwhile) replaces its earlier copy, whose receipt
// handle is no longer valid.
func appendUnique(batch, msgs []sqstypes.Message) []sqstypes.Message {
	for _, m := range msgs {
		replaced := false
		for i := range batch {
			if aws.ToString(batch[i].MessageId) == aws.ToString(m.MessageId) {
				batch[i], replaced = m, true
				break
			}
		}
		if !replaced {
			batch = append(batch, m)
		}
	}
	return batch
}

func (p *Poller) receive(ctx context.Context, n int, wait time.Duration) ([]sqstypes.Message, error) {
	secs := int32(wait / time.Second)
	if secs > 20 {
		secs = 20
	}
	if secs < 0 {
		secs = 0
	}
	// The HTTP call must outlive the long poll.
	rctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+10*time.Second)
	defer cancel()
	out, err := p.SQS.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.Source.QueueURL),
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             secs,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", p.Source.QueueURL, err)
	}
	return out.Messages, nil
}

// process invokes the function with one batch and deletes what succeeded.
func (p *Poller) process(ctx context.Context, msgs []sqstypes.Message) {
	ev := sqsevent.FromSDK(msgs, p.Source.QueueARN)
	payload, err := json.Marshal(ev)
	if err != nil {
		p.log().Error("event source: encode event", "event_source", p.Source.LogicalID, "err", err.Error())
		return
	}
	p.count(func(s *Stats) { s.Batches++; s.Messages += len(msgs) })
	res, err := p.Function.Invoke(ctx, payload)
	if err != nil {
		p.count(func(s *Stats) { s.FunctionErrors++ })
		p.log().Error("event source: invoke failed; the batch will be retried", "event_source", p.Source.LogicalID,
			"function", p.Source.Function, "messages", len(msgs), "err", err.Error())
		return
	}
	if res.Error != nil {
		p.count(func(s *Stats) { s.FunctionErrors++ })
		p.log().Warn("event source: function error; the batch will be retried", "event_source", p.Source.LogicalID,
			"function", p.Source.Function, "messages", len(msgs), "error_type", res.Error.Type, "error_message", res.Error.Message)
		return
	}
	failed, err := p.failures(res.Payload, msgs)
	if err != nil {
		p.count(func(s *Stats) { s.FunctionErrors++ })
		p.log().Warn("event source: invalid batch response; the batch will be retried", "event_source", p.Source.LogicalID,
			"function", p.Source.Function, "err", err.Error())
		return
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	deleted := p.delete(ctx, del)
	p.count(func(s *Stats) { s.Deleted += deleted; s.Failed += len(failed) })
	p.log().Debug("event source: batch done", "event_source", p.Source.LogicalID, "messages", len(msgs),
		"failed", len(failed), "deleted", deleted, "duration_ms", res.Duration.Milliseconds())
}

// failures returns the message ids reported as failed. Without ReportBatchItemFailures
// nothing is a failure once the invocation succeeded.
func (p *Poller) failures(payload []byte, msgs []sqstypes.Message) (map[string]bool, error) {
	failed := map[string]bool{}
	if !p.Source.ReportBatchItemFailures {
		return failed, nil
	}
	trimmed := string(payload)
	if trimmed == "" || trimmed == "null" || trimmed == "{}" {
		return failed, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, fmt.Errorf("response is not a batch item failures document: %w", err)
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[aws.ToString(m.MessageId)] = true
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" || !ids[f.ItemIdentifier] {
			return nil, fmt.Errorf("itemIdentifier %q is not a message of the batch", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func (p *Poller) delete(ctx context.Context, entries []sqstypes.DeleteMessageBatchRequestEntry) int {
	deleted := 0
	for len(entries) > 0 {
		n := min(10, len(entries))
		chunk := entries[:n]
		entries = entries[n:]
		out, err := p.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.Source.QueueURL), Entries: chunk})
		if err != nil {
			p.log().Error("event source: delete failed; the messages will be redelivered", "event_source", p.Source.LogicalID,
				"messages", len(chunk), "err", err.Error())
			continue
		}
		deleted += len(out.Successful)
		for _, f := range out.Failed {
			p.log().Error("event source: delete failed; the message will be redelivered", "event_source", p.Source.LogicalID,
				"entry", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
	return deleted
}
