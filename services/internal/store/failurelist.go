package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/notification"
)

// FailureUnlinked is the Status of a Failure recorded in a FAILURE# item: a dead message
// tied to no transaction that replay could put back (not a queue message, or one for a
// transaction that is missing, already accounted or has another payload).
const FailureUnlinked = "unlinked"

// Failure is a notification recorded as failed, as an operator reads it before a replay:
// which transaction, why it failed, after how many receives, and whether it was replayed.
type Failure struct {
	// Key is the pk of the item that holds the failure (TXN#... or FAILURE#...).
	Key string `json:"key"`
	// Provider and TransactionID name the transaction (for an unlinked failure, as far as
	// its body names one; else empty). Amount and currency are the transaction's.
	Provider      string `json:"provider,omitempty"`
	TransactionID string `json:"transaction_id,omitempty"`
	AmountMinor   int64  `json:"amount_minor,omitempty"`
	Currency      string `json:"currency,omitempty"`
	EventType     string `json:"event_type,omitempty"`
	// Status is StatusFailed (on the FAILED list: replay puts it back), StatusReplayed (put
	// back on the queue, not accounted yet) or FailureUnlinked.
	Status string `json:"status"`
	// Reason is the recorded failure reason: the last processing error accounting noted
	// before the message died, else why notify-failures recorded it.
	Reason string `json:"reason"`
	// LastError is the processing error noted since a replay, if accounting failed again.
	LastError string `json:"last_error,omitempty"`
	// ReceivedAt is when the notification was received (for an unlinked failure, when its
	// message was first sent); FailedAt when the failure was recorded.
	ReceivedAt string `json:"received_at,omitempty"`
	FailedAt   string `json:"failed_at,omitempty"`
	// ReceiveCount is the dead message's receive count; ProcessingErrors how many
	// processing errors accounting noted on the transaction.
	ReceiveCount     int `json:"receive_count"`
	ProcessingErrors int `json:"processing_errors,omitempty"`
	// Replayable is whether replay can put it back (a failed transaction).
	Replayable bool `json:"replayable"`
	// Replayed is whether it was ever replayed: ReplayCount times, last at ReplayedAt.
	Replayed    bool   `json:"replayed"`
	ReplayCount int    `json:"replay_count"`
	ReplayedAt  string `json:"replayed_at,omitempty"`
}

// FailureQuery says which recorded failures Failures lists, at most Limit (≥ 1) of them.
// The FAILED list is always read: one partition of the index, what replay puts back.
type FailureQuery struct {
	Limit int
	// Replayed also lists transactions replayed and not yet accounted. They are on the
	// in-flight lists with every other unaccounted transaction: all of those are read.
	Replayed bool
	// Unlinked also lists the FAILURE# items, which no index holds: the whole table is
	// scanned.
	Unlinked bool
}

// Failures lists recorded failures with their reasons: first the failed transactions,
// oldest failure first, then (as q asks) the replayed ones by replay time, then the
// unlinked ones by the time they were recorded.
func (s *Store) Failures(ctx context.Context, q FailureQuery) ([]Failure, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("list failures: limit %d, want at least 1", q.Limit)
	}
	failed, err := s.Failed(ctx, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list failures: %w", err)
	}
	out := make([]Failure, 0, len(failed))
	for _, t := range failed {
		out = append(out, failureOf(t))
	}
	if q.Replayed && len(out) < q.Limit {
		replayed, err := s.replayedInFlight(ctx, q.Limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("list failures: %w", err)
		}
		out = append(out, replayed...)
	}
	if q.Unlinked && len(out) < q.Limit {
		unlinked, err := s.unlinkedFailures(ctx, q.Limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("list failures: %w", err)
		}
		out = append(out, unlinked...)
	}
	return out, nil
}

// failureOf is a failed or replayed transaction as a Failure.
func failureOf(t Transaction) Failure {
	return Failure{
		Key: t.PK, Provider: t.Provider, TransactionID: t.TransactionID, AmountMinor: t.AmountMinor,
		Currency: t.Currency, EventType: t.EventType, Status: t.Status, Reason: t.FailureReason,
		LastError: t.LastError, ReceivedAt: t.ReceivedAt, FailedAt: t.FailedAt, ReceiveCount: t.FailureCount,
		ProcessingErrors: t.FailedAttempts, Replayable: t.Status == StatusFailed,
		Replayed: t.ReplayCount > 0, ReplayCount: t.ReplayCount, ReplayedAt: t.ReplayedAt,
	}
}

// replayedInFlight lists up to limit transactions on the in-flight lists whose status is
// replayed, by replay time.
func (s *Store) replayedInFlight(ctx context.Context, limit int) ([]Failure, error) {
	var out []Failure
	for shard := 0; shard < OutboxShards && len(out) < limit; shard++ {
		pk := inflightPrefix + strconv.Itoa(shard)
		p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{
			TableName:                aws.String(s.Table),
			IndexName:                aws.String(IndexGSI1),
			KeyConditionExpression:   aws.String("gsi1pk = :pk"),
			FilterExpression:         aws.String("#st = :replayed"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(pk), ":replayed": str(StatusReplayed),
			},
		})
		for p.HasMorePages() && len(out) < limit {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("query replayed on %s of %s: %w", pk, IndexGSI1, err)
			}
			for _, it := range page.Items[:min(len(page.Items), limit-len(out))] {
				t, err := decodeTransaction(it)
				if err != nil {
					return nil, fmt.Errorf("decode %s item: %w", pk, err)
				}
				out = append(out, failureOf(*t))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ReplayedAt < out[j].ReplayedAt })
	return out, nil
}

// unlinkedFailures scans the table for up to limit FAILURE# items, by the time they were
// recorded.
func (s *Store) unlinkedFailures(ctx context.Context, limit int) ([]Failure, error) {
	p := dynamodb.NewScanPaginator(s.DB, &dynamodb.ScanInput{
		TableName:                 aws.String(s.Table),
		FilterExpression:          aws.String("begins_with(pk, :failure)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":failure": str(contract.KeyFailure)},
	})
	var out []Failure
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan for %s items: %w", contract.KeyFailure, err)
		}
		for _, it := range page.Items[:min(len(page.Items), limit-len(out))] {
			var f FailureItem
			if err := attributevalue.UnmarshalMap(it, &f); err != nil {
				return nil, fmt.Errorf("decode failure item: %w", err)
			}
			provider, id, _ := notification.MessageIdentity(f.Body)
			out = append(out, Failure{
				Key: f.PK, Provider: provider, TransactionID: id, Status: FailureUnlinked, Reason: f.Reason,
				ReceivedAt: f.FirstSeen, FailedAt: f.RecordedAt, ReceiveCount: f.ReceiveCount,
			})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FailedAt < out[j].FailedAt })
	return out, nil
}
