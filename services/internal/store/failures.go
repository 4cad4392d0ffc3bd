package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/services/internal/notification"
)

// DeadMessage is a message that exhausted its receives on the main queue and reached the DLQ.
type DeadMessage struct {
	// MessageID is the SQS message id (stable across DLQ redeliveries).
	MessageID string
	// Body is the original message body, kept verbatim.
	Body string
	// Parsed is the decoded message, nil when the body is not a valid queue message.
	Parsed *notification.Message
	// ParseError says why Parsed is nil.
	ParseError string
	// ReceiveCount is the message's ApproximateReceiveCount.
	ReceiveCount int
	// SentAt is when the message was first sent (SQS SentTimestamp), as stored time text.
	SentAt string
}

// FailureRecord says where a dead message was recorded and why it failed.
type FailureRecord struct {
	// Key is the pk of the item that now holds the failure.
	Key string
	// OnTransaction is true when the failure was recorded on the transaction itself
	// (replayable), false when it went to a FAILURE# item.
	OnTransaction bool
	// Reason is the recorded failure reason.
	Reason string
	// FirstSeen is when the notification was first received (or the message first sent).
	FirstSeen string
}

// FailureItem is a dead message that could not be tied to a transaction.
type FailureItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	Body         string `dynamodbav:"body"`
	Reason       string `dynamodbav:"reason"`
	ReceiveCount int    `dynamodbav:"receive_count"`
	FirstSeen    string `dynamodbav:"first_seen,omitempty"`
	RecordedAt   string `dynamodbav:"recorded_at"`
}

// RecordFailure durably records a dead message before anyone is alerted: on its
// transaction (status failed, reason, attempts, original body, on the FAILED list for
// replay) when it parses and names a transaction that is not accounted, otherwise in a
// FAILURE#<message id> item. Both writes are idempotent, so a retried DLQ delivery records
// the same thing again.
func (s *Store) RecordFailure(ctx context.Context, d DeadMessage) (FailureRecord, error) {
	now := s.now().Format(TimeLayout)
	if d.Parsed != nil {
		m := d.Parsed
		pk := TxnPK(m.Provider, m.TransactionID)
		out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.Table),
			Key:       txnKey(m.Provider, m.TransactionID),
			UpdateExpression: aws.String("SET #st = :failed, failure_reason = if_not_exists(last_error, :reason), " +
				"failure_attempts = :rc, failure_body = :body, failed_at = :now, gsi1pk = :list, gsi1sk = :sk"),
			ConditionExpression:      aws.String("attribute_exists(pk) AND payload_hash = :h AND #st <> :accounted"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":failed": str(StatusFailed), ":accounted": str(StatusAccounted),
				":reason": str("exhausted maxReceiveCount on the main queue"),
				":rc":     num(int64(d.ReceiveCount)), ":body": str(d.Body), ":now": str(now),
				":list": str(failedList), ":sk": str(now + "#" + pk), ":h": str(m.PayloadHash),
			},
			ReturnValues: types.ReturnValueAllNew,
		})
		if err == nil {
			var t Transaction
			if err := attributevalue.UnmarshalMap(out.Attributes, &t); err != nil {
				return FailureRecord{}, fmt.Errorf("decode failed transaction %s: %w", pk, err)
			}
			return FailureRecord{Key: pk, OnTransaction: true, Reason: t.FailureReason, FirstSeen: t.ReceivedAt}, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return FailureRecord{}, fmt.Errorf("record failure on %s: %w", pk, err)
		}
		// Not recordable on the transaction (absent, other payload, or already accounted):
		// keep it as a failure item instead.
		d.ParseError = "dead message for " + pk + " that is missing, accounted or has another payload"
	}
	item := FailureItem{
		PK: "FAILURE#" + d.MessageID, SK: "FAILURE",
		Body: d.Body, Reason: truncate(d.ParseError, 500), ReceiveCount: d.ReceiveCount,
		FirstSeen: d.SentAt, RecordedAt: now,
	}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return FailureRecord{}, fmt.Errorf("encode failure item: %w", err)
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: av}); err != nil {
		return FailureRecord{}, fmt.Errorf("record failure item %s: %w", item.PK, err)
	}
	return FailureRecord{Key: item.PK, Reason: item.Reason, FirstSeen: d.SentAt}, nil
}

// GetFailureItem reads a FAILURE# item by SQS message id; nil when absent.
func (s *Store) GetFailureItem(ctx context.Context, messageID string) (*FailureItem, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key("FAILURE#"+messageID, "FAILURE"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get failure item %s: %w", messageID, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	var f FailureItem
	if err := attributevalue.UnmarshalMap(out.Item, &f); err != nil {
		return nil, fmt.Errorf("decode failure item %s: %w", messageID, err)
	}
	return &f, nil
}

// ErrNotFailed means MarkReplayed found the transaction no longer failed (replayed by
// another run, or already accounted from the replayed message).
var ErrNotFailed = errors.New("transaction is no longer failed")

// MarkReplayed takes a failed transaction off the FAILED list after its message was put
// back on the queue; accounting then accepts it from status replayed.
func (s *Store) MarkReplayed(ctx context.Context, provider, transactionID string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.Table),
		Key:                      txnKey(provider, transactionID),
		UpdateExpression:         aws.String("SET #st = :replayed, replayed_at = :now ADD replay_count :one REMOVE gsi1pk, gsi1sk, last_error"),
		ConditionExpression:      aws.String("#st = :failed"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":replayed": str(StatusReplayed), ":failed": str(StatusFailed),
			":now": str(s.now().Format(TimeLayout)), ":one": num(1),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("mark %s replayed: %w", TxnPK(provider, transactionID), ErrNotFailed)
	}
	if err != nil {
		return fmt.Errorf("mark %s replayed: %w", TxnPK(provider, transactionID), err)
	}
	return nil
}

// ReceiveCount parses an SQS ApproximateReceiveCount attribute (0 when absent or bad).
func ReceiveCount(v string) int {
	c, _ := strconv.Atoi(v)
	return c
}
