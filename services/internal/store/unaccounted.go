package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxUnaccountedPages bounds the pages one Unaccounted call reads per shard: records re-sent
// recently are read and skipped, and a large stuck backlog must not make one sweep unbounded.
const maxUnaccountedPages = 10

// Unaccounted lists up to limit transactions whose message went to the queue (ingest's send
// was confirmed, or the record was replayed) before olderThan and that are still not
// accounted, leaving out those re-sent since olderThan. Once ingest confirms the send, the
// SQS message is the only copy of the work item; if it disappears without reaching the DLQ
// (retention expiry while accounting is throttled or disabled, a purge, a replaced queue)
// the record would otherwise stay received forever. Each shard gets an equal share of limit.
func (s *Store) Unaccounted(ctx context.Context, olderThan time.Time, limit int) ([]Transaction, error) {
	cutoff := olderThan.UTC().Format(TimeLayout)
	share := (limit + OutboxShards - 1) / OutboxShards
	var all []Transaction
	for shard := 0; shard < OutboxShards && len(all) < limit; shard++ {
		pk := inflightPrefix + strconv.Itoa(shard)
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.Table),
			IndexName:              aws.String(IndexGSI1),
			KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk < :before"),
			FilterExpression:       aws.String("attribute_not_exists(resent_at) OR resent_at < :before"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(pk), ":before": str(cutoff),
			},
			Limit: aws.Int32(int32(min(max(share, 25), 1000))),
		}
		want := min(share, limit-len(all))
		got := 0
		p := dynamodb.NewQueryPaginator(s.DB, in)
		for page := 0; p.HasMorePages() && got < want && page < maxUnaccountedPages; page++ {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("query %s on %s: %w", pk, IndexGSI1, err)
			}
			for _, it := range out.Items {
				if got == want {
					break
				}
				var t Transaction
				if err := attributevalue.UnmarshalMap(it, &t); err != nil {
					return nil, fmt.Errorf("decode %s item: %w", pk, err)
				}
				all = append(all, t)
				got++
			}
		}
	}
	return all, nil
}

// ErrNotInFlight means a transaction is no longer waiting for accounting (accounted or
// failed since it was listed).
var ErrNotInFlight = errors.New("transaction is not waiting for accounting")

// MarkResent records that the reconciler put an unaccounted transaction on the queue again,
// so the next sweeps leave it alone for another bound.
func (s *Store) MarkResent(ctx context.Context, provider, transactionID string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table),
		Key:                 txnKey(provider, transactionID),
		UpdateExpression:    aws.String("SET resent_at = :now ADD resend_count :one"),
		ConditionExpression: aws.String("begins_with(gsi1pk, :inflight)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": str(s.now().Format(TimeLayout)), ":one": num(1), ":inflight": str(inflightPrefix),
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

// OldestUnaccounted returns when the oldest transaction still waiting for accounting (on
// the outbox or in flight) was received or last replayed; the zero time when there is none.
// It reads one item per shard and list.
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
