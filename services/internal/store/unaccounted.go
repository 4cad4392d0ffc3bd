package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Unaccounted lists up to limit transactions whose message was last sent to the queue
// (by ingest, the reconciler or a replay) before sentBefore and that are still not
// accounted. Once ingest confirms the send, the SQS message is the only copy of the work
// item; if it disappears without reaching the DLQ (retention expiry while accounting is
// throttled or disabled, a purge, a replaced queue) the record would otherwise stay received
// forever. The in-flight list is ordered by last send, so this is a plain key query: every
// item it reads is due. Each shard gets an equal share of limit.
func (s *Store) Unaccounted(ctx context.Context, sentBefore time.Time, limit int) ([]Transaction, error) {
	share := (limit + OutboxShards - 1) / OutboxShards
	var all []Transaction
	for shard := 0; shard < OutboxShards && len(all) < limit; shard++ {
		got, err := s.queryGSI1(ctx, inflightPrefix+strconv.Itoa(shard), sentBefore.UTC().Format(TimeLayout), min(share, limit-len(all)))
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	return all, nil
}

// ErrNotInFlight means a transaction is no longer waiting for accounting (accounted or
// failed since it was listed).
var ErrNotInFlight = errors.New("transaction is not waiting for accounting")

// MarkResent records that the reconciler put an unaccounted transaction on the queue again:
// it moves to the end of the in-flight list (the time of this send), so the next sweeps leave
// it alone for another bound.
func (s *Store) MarkResent(ctx context.Context, provider, transactionID string) error {
	now := s.now().Format(TimeLayout)
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table),
		Key:                 txnKey(provider, transactionID),
		UpdateExpression:    aws.String("SET resent_at = :now, gsi1sk = :sk ADD resend_count :one"),
		ConditionExpression: aws.String("begins_with(gsi1pk, :inflight)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": str(now), ":one": num(1), ":inflight": str(inflightPrefix), ":sk": str(now + "#" + TxnPK(provider, transactionID)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("mark %s resent: %w", TxnPK(provider, transactionID), ErrNotInFlight)
	}
	if err != nil {
		return fmt.Errorf("mark %s resent: %w", TxnPK(provider, transactionID), err)
	}
	return nil
}

// OldestUnaccounted returns the earliest time a transaction still waiting for accounting
// was received (on the outbox) or last sent to the queue (in flight); the zero time when
// there is none. It reads one item per shard and list.
func (s *Store) OldestUnaccounted(ctx context.Context) (time.Time, error) {
	var oldest time.Time
	for _, prefix := range []string{outboxPrefix, inflightPrefix} {
		for shard := 0; shard < OutboxShards; shard++ {
			pk := prefix + strconv.Itoa(shard)
			out, err := s.DB.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(s.Table),
				IndexName:                 aws.String(IndexGSI1),
				KeyConditionExpression:    aws.String("gsi1pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
				ProjectionExpression:      aws.String("gsi1sk"),
				Limit:                     aws.Int32(1),
			})
			if err != nil {
				return time.Time{}, fmt.Errorf("query %s on %s: %w", pk, IndexGSI1, err)
			}
			if len(out.Items) == 0 {
				continue
			}
			sk, _ := out.Items[0][AttrGSI1SK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			at, err := time.Parse(TimeLayout, strings.SplitN(sk.Value, "#", 2)[0])
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: list time %q: %w", pk, sk.Value, err)
			}
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
		}
	}
	return oldest, nil
}
