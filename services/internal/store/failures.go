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

	"github.com/payhook/payhook/internal/contract"
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
	// Provider and TransactionID name the message's transaction when Parsed is nil but
	// they could still be read from the body (notification.MessageIdentity); else empty.
	Provider, TransactionID string
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
// replay) when it names a transaction that is not accounted, otherwise in a
// FAILURE#<message id> item. A message that does not parse (a currency withdrawn since, a
// message from a newer version during a rollout) still names its transaction when its
// provider and transaction id can be read (DeadMessage.Provider, TransactionID): it is
// recorded there, with the parse error as its reason, so replay and the alert see it. Both
// writes are idempotent, so a retried DLQ delivery records the same thing again.
func (s *Store) RecordFailure(ctx context.Context, d DeadMessage) (FailureRecord, error) {
	now := s.now().Format(TimeLayout)
	provider, id, hash := d.Provider, d.TransactionID, ""
	reason := "unparseable message: " + d.ParseError
	if d.Parsed == nil {
		d.ParseError = reason
	} else {
		provider, id, hash = d.Parsed.Provider, d.Parsed.TransactionID, d.Parsed.PayloadHash
		reason = "exhausted maxReceiveCount on the main queue"
	}
	if provider != "" && id != "" {
		rec, ok, err := s.failTransaction(ctx, d, provider, id, hash, truncate(reason, 500), now)
		if err != nil || ok {
			return rec, err
		}
		// Not recordable on the transaction (absent, other payload, or already accounted):
		// keep it as a failure item instead.
		d.ParseError = "dead message for " + TxnPK(provider, id) + " that is missing, accounted or has another payload"
		if d.Parsed == nil {
			d.ParseError = reason + "; " + TxnPK(provider, id) + " is missing or accounted"
		}
	}
	item := FailureItem{
		PK: contract.KeyFailure + d.MessageID, SK: "FAILURE",
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

// failTransaction marks a transaction failed with the dead message's body; hash, when not
// empty, must match the stored payload hash. ok is false when the condition fails (no such
// transaction, another payload, or already accounted).
func (s *Store) failTransaction(ctx context.Context, d DeadMessage, provider, id, hash, reason, now string) (FailureRecord, bool, error) {
	pk := TxnPK(provider, id)
	cond := "attribute_exists(pk) AND #st <> :accounted"
	vals := map[string]types.AttributeValue{
		":failed": str(StatusFailed), ":accounted": str(StatusAccounted), ":reason": str(reason),
		":rc": num(int64(d.ReceiveCount)), ":body": str(d.Body), ":now": str(now),
		":list": str(failedList), ":sk": str(now + "#" + pk),
	}
	if hash != "" {
		cond += " AND payload_hash = :h"
		vals[":h"] = str(hash)
	}
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table),
		Key:       txnKey(provider, id),
		UpdateExpression: aws.String("SET #st = :failed, failure_reason = if_not_exists(last_error, :reason), " +
			"failure_attempts = :rc, failure_body = :body, failed_at = :now, gsi1pk = :list, gsi1sk = :sk"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return FailureRecord{}, false, nil
	}
	if err != nil {
		return FailureRecord{}, false, fmt.Errorf("record failure on %s: %w", pk, err)
	}
	var t Transaction
	if err := attributevalue.UnmarshalMap(out.Attributes, &t); err != nil {
		return FailureRecord{}, false, fmt.Errorf("decode failed transaction %s: %w", pk, err)
	}
	return FailureRecord{Key: pk, OnTransaction: true, Reason: t.FailureReason, FirstSeen: t.ReceivedAt}, true, nil
}

// GetFailureItem reads a FAILURE# item by SQS message id; nil when absent.
func (s *Store) GetFailureItem(ctx context.Context, messageID string) (*FailureItem, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key(contract.KeyFailure+messageID, "FAILURE"), ConsistentRead: aws.Bool(true),
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
	now, pk := s.now().Format(TimeLayout), TxnPK(provider, transactionID)
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table),
		Key:       txnKey(provider, transactionID),
		UpdateExpression: aws.String("SET #st = :replayed, replayed_at = :now, gsi1pk = :inflight, gsi1sk = :sk " +
			"ADD replay_count :one REMOVE last_error, resent_at"),
		ConditionExpression:      aws.String("#st = :failed"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":replayed": str(StatusReplayed), ":failed": str(StatusFailed),
			":now": str(now), ":one": num(1),
			// Back on the in-flight list, counted from the replay.
			":inflight": str(inflightPrefix + shardOf(pk)), ":sk": str(now + "#" + pk),
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
