package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/notification"
)

// TimeLayout is how times are stored: fixed width, so string order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// DayLayout names a daily-total bucket (UTC day of receipt).
const DayLayout = "2006-01-02"

// Store reads and writes payhook's table.
type Store struct {
	// DB is the DynamoDB client.
	DB *dynamodb.Client
	// Table is the table name.
	Table string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Transaction is one stored notification. Fields map to the item's attributes: the
// notification (provider, transaction id, amount in minor units, currency, canonical
// metadata, payload hash), its lifecycle (status, received/enqueued/accounted/failed/
// replayed times, last processing error, failure reason, attempts and original body,
// replay count, re-sends by the reconciler) and its place on a work list (gsi1pk/gsi1sk:
// OUTBOX#n, INFLIGHT#n or FAILED).
type Transaction struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Provider       string `dynamodbav:"provider"`
	TransactionID  string `dynamodbav:"transaction_id"`
	AmountMinor    int64  `dynamodbav:"amount_minor"`
	Currency       string `dynamodbav:"currency"`
	PayloadHash    string `dynamodbav:"payload_hash"`
	Metadata       string `dynamodbav:"metadata,omitempty"`
	Status         string `dynamodbav:"status"`
	ReceivedAt     string `dynamodbav:"received_at"`
	RequestID      string `dynamodbav:"request_id,omitempty"`
	EnqueuedAt     string `dynamodbav:"enqueued_at,omitempty"`
	AccountedAt    string `dynamodbav:"accounted_at,omitempty"`
	LastError      string `dynamodbav:"last_error,omitempty"`
	FailedAttempts int    `dynamodbav:"failed_attempts,omitempty"`
	FailureReason  string `dynamodbav:"failure_reason,omitempty"`
	FailureCount   int    `dynamodbav:"failure_attempts,omitempty"`
	FailureBody    string `dynamodbav:"failure_body,omitempty"`
	FailedAt       string `dynamodbav:"failed_at,omitempty"`
	ReplayedAt     string `dynamodbav:"replayed_at,omitempty"`
	ReplayCount    int    `dynamodbav:"replay_count,omitempty"`
	ResentAt       string `dynamodbav:"resent_at,omitempty"`
	ResendCount    int    `dynamodbav:"resend_count,omitempty"`
	GSI1PK         string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK         string `dynamodbav:"gsi1sk,omitempty"`
	// Event records only (providers posting Stripe events or Standard Webhooks envelopes,
	// whose TransactionID is the provider's event id): the event's type, what it does
	// (credit, debit or ignored), the payment it moves money on, whether its amount is the
	// cumulative refunded amount, and what accounting counted of it.
	EventType    string `dynamodbav:"event_type,omitempty"`
	Kind         string `dynamodbav:"kind,omitempty"`
	PaymentID    string `dynamodbav:"payment_id,omitempty"`
	Cumulative   bool   `dynamodbav:"cumulative,omitempty"`
	CountedMinor int64  `dynamodbav:"counted_minor,omitempty"`
	CountedNote  string `dynamodbav:"counted_note,omitempty"`
}

// Pending reports whether the transaction is still on the outbox list: stored and neither
// accounted nor sent again by the reconciler.
func (t *Transaction) Pending() bool { return strings.HasPrefix(t.GSI1PK, outboxPrefix) }

// Message rebuilds the queue message for this transaction. Its ReceivedAt is the zero
// time when t's received_at does not parse, which the Store never returns (see Received).
func (t *Transaction) Message() notification.Message {
	at, _ := t.Received() // the Store refuses an item whose received_at does not parse
	return notification.Message{
		Version:       notification.MessageVersion,
		Provider:      t.Provider,
		TransactionID: t.TransactionID,
		AmountMinor:   t.AmountMinor,
		Currency:      t.Currency,
		PayloadHash:   t.PayloadHash,
		ReceivedAt:    at,
	}.WithEvent(t.EventType, t.Kind, t.PaymentID, t.Cumulative)
}

// TxnPK is the partition key of a transaction record.
func TxnPK(provider, transactionID string) string {
	return contract.KeyTransaction + provider + "#" + transactionID
}

// TotalPK is the partition key of a provider's daily totals.
func TotalPK(provider, day string) string { return contract.KeyTotal + provider + "#" + day }

// shardOf spreads transactions evenly over the OutboxShards partitions of each list.
func shardOf(pk string) string {
	h := fnv.New32a()
	h.Write([]byte(pk))
	return strconv.Itoa(int(h.Sum32() % OutboxShards))
}

func outboxShard(pk string) string { return outboxPrefix + shardOf(pk) }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func txnKey(provider, id string) map[string]types.AttributeValue {
	return key(TxnPK(provider, id), "TXN")
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// InsertOutcome says what Insert found.
type InsertOutcome int

// Insert outcomes.
const (
	// Inserted: a new record was written, on the outbox list.
	Inserted InsertOutcome = iota + 1
	// Duplicate: a record with the same key and payload hash exists.
	Duplicate
	// Conflict: a record with the same key but another payload hash exists.
	Conflict
)

// NewTransaction builds the record for an accepted notification.
func NewTransaction(n notification.Notification, hash, requestID string, receivedAt time.Time) Transaction {
	pk := TxnPK(n.Provider, n.TransactionID)
	at := receivedAt.UTC().Format(TimeLayout)
	return Transaction{
		PK: pk, SK: "TXN",
		Provider:      n.Provider,
		TransactionID: n.TransactionID,
		AmountMinor:   n.Amount.Minor,
		Currency:      n.Amount.Currency.Code,
		PayloadHash:   hash,
		Metadata:      string(n.Metadata),
		Status:        StatusReceived,
		ReceivedAt:    at,
		RequestID:     requestID,
		GSI1PK:        outboxShard(pk),
		GSI1SK:        at + "#" + pk,
	}
}

// Insert writes t unless a record with its key exists (one record per provider and
// transaction id, however many concurrent deliveries). For an existing record it returns
// Duplicate or Conflict and the stored record, which DynamoDB returns with the failed
// condition (ReturnValuesOnConditionCheckFailure): ingest needs no dynamodb:GetItem.
func (s *Store) Insert(ctx context.Context, t Transaction) (InsertOutcome, *Transaction, error) {
	err := s.put(ctx, t, "attribute_not_exists(pk)", nil, nil)
	if err == nil {
		return Inserted, &t, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return 0, nil, fmt.Errorf("put transaction %s: %w", t.PK, err)
	}
	if len(ccf.Item) == 0 {
		return 0, nil, fmt.Errorf("put transaction %s: the condition failed without the existing record", t.PK)
	}
	existing, err := decodeTransaction(ccf.Item)
	if err != nil {
		return 0, nil, fmt.Errorf("decode existing transaction %s: %w", t.PK, err)
	}
	if existing.PayloadHash == t.PayloadHash {
		return Duplicate, existing, nil
	}
	return Conflict, existing, nil
}

// put writes t under a condition; a failed condition returns the stored item with the
// error (ReturnValuesOnConditionCheckFailure).
func (s *Store) put(ctx context.Context, t Transaction, cond string, names map[string]string, vals map[string]types.AttributeValue) error {
	item, err := attributevalue.MarshalMap(t)
	if err != nil {
		return fmt.Errorf("encode record %s: %w", t.PK, err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: item, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return err
}

// Get reads a transaction (strongly consistent); nil when absent. An item whose
// received_at does not parse is an error.
func (s *Store) Get(ctx context.Context, provider, transactionID string) (*Transaction, error) {
	t, err := getItem[Transaction](ctx, s, TxnPK(provider, transactionID), "TXN", "transaction")
	if err != nil || t == nil {
		return t, err
	}
	if _, err := t.Received(); err != nil {
		return nil, fmt.Errorf("get %w", err)
	}
	return t, nil
}

// getItem reads one item as a T (strongly consistent); nil when absent.
func getItem[T any](ctx context.Context, s *Store, pk, sk, what string) (*T, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", what, pk, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	v := new(T)
	if err := attributevalue.UnmarshalMap(out.Item, v); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", what, pk, err)
	}
	return v, nil
}

// MarkEnqueued moves a transaction from the outbox list to the in-flight list once the
// reconciler has put its message on the queue, placed by the time of that send, so that it
// is sent again only after the in-flight bound. It is a no-op for a transaction that is no
// longer pending.
func (s *Store) MarkEnqueued(ctx context.Context, provider, transactionID string) error {
	pk := TxnPK(provider, transactionID)
	now := s.now().Format(TimeLayout)
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table),
		Key:                 txnKey(provider, transactionID),
		UpdateExpression:    aws.String("SET enqueued_at = :now, gsi1pk = :inflight, gsi1sk = :sk"),
		ConditionExpression: aws.String("begins_with(gsi1pk, :outbox)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": str(now), ":outbox": str(outboxPrefix), ":inflight": str(inflightPrefix + shardOf(pk)), ":sk": str(now + "#" + pk),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("mark %s enqueued: %w", TxnPK(provider, transactionID), err)
	}
	return nil
}

// PendingOutbox lists up to limit transactions still on the outbox list that were
// received before olderThan, oldest first within each shard. Each shard gets an equal share
// of limit, so a backlog in one shard never holds back the others (records spread evenly
// over the shards by key hash).
func (s *Store) PendingOutbox(ctx context.Context, olderThan time.Time, limit int) ([]Transaction, error) {
	share := (limit + OutboxShards - 1) / OutboxShards
	var all []Transaction
	for shard := 0; shard < OutboxShards && len(all) < limit; shard++ {
		got, err := s.queryGSI1(ctx, outboxPrefix+strconv.Itoa(shard), olderThan.UTC().Format(TimeLayout), min(share, limit-len(all)))
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	return all, nil
}

// Failed lists up to limit transactions recorded as failed and not yet replayed.
func (s *Store) Failed(ctx context.Context, limit int) ([]Transaction, error) {
	return s.queryGSI1(ctx, failedList, "", limit)
}

func (s *Store) queryGSI1(ctx context.Context, pk, before string, limit int) ([]Transaction, error) {
	cond := "gsi1pk = :pk"
	vals := map[string]types.AttributeValue{":pk": str(pk)}
	if before != "" {
		cond += " AND gsi1sk < :before"
		vals[":before"] = str(before)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeValues: vals,
		// Read no more than needed: items carry failure bodies.
		Limit: aws.Int32(int32(min(limit, 1000))),
	}
	var out []Transaction
	p := dynamodb.NewQueryPaginator(s.DB, in)
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query %s on %s: %w", pk, IndexGSI1, err)
		}
		for _, it := range page.Items {
			t, err := decodeTransaction(it)
			if err != nil {
				return nil, fmt.Errorf("decode %s item: %w", pk, err)
			}
			out = append(out, *t)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// AccountOutcome says what Account did.
type AccountOutcome int

// Account outcomes.
const (
	// Accounted: the status moved to accounted and the amount was added to the total.
	Accounted AccountOutcome = iota + 1
	// AlreadyAccounted: a redelivery of a message already accounted; nothing changed.
	AlreadyAccounted
)

// ErrNotFound means a message names a transaction that is not in the table.
var ErrNotFound = errors.New("transaction not found")

// ErrMismatch means a message's payload hash differs from the stored record's.
var ErrMismatch = errors.New("payload hash does not match the stored transaction")

// ErrOverflow means adding the amount would overflow the daily total.
var ErrOverflow = errors.New("daily total would overflow")

// ErrBadState means the transaction is in a state accounting may not move from.
var ErrBadState = errors.New("transaction is not in an accountable state")

// Account moves the message's transaction to accounted and adds its amount to the
// provider's per-currency daily total, in one DynamoDB transaction: both happen exactly
// once or neither does. It accepts a transaction that is received, replayed, or failed (a
// replayed message may arrive before its record is marked replayed); never one accounted.
func (s *Store) Account(ctx context.Context, m notification.Message) (AccountOutcome, error) {
	out, _, err := s.AccountMoved(ctx, m)
	return out, err
}

// maxConflictAttempts bounds Account's retries of conflicting transactions.
const maxConflictAttempts = 6

// isTransactionConflict reports a transaction cancelled only because another one was
// touching the same items.
func isTransactionConflict(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		conflict := false
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "TransactionConflict":
				conflict = true
			case "", "None":
			default:
				return false
			}
		}
		return conflict
	}
	var tcx *types.TransactionConflictException
	return errors.As(err, &tcx)
}

func (s *Store) account(ctx context.Context, m notification.Message) (AccountOutcome, error) {
	pk := TxnPK(m.Provider, m.TransactionID)
	day := m.ReceivedAt.UTC().Format(DayLayout)
	now := s.now().Format(TimeLayout)
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			s.accountRecord(m, now),
			s.addToTotal(totalKey{m.Provider, day, m.Currency}, m.AmountMinor, 1),
		},
	})
	if err == nil {
		return Accounted, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return 0, fmt.Errorf("account %s: %w", pk, err)
	}
	reasons := tce.CancellationReasons
	if len(reasons) == 2 && aws.ToString(reasons[1].Code) == "ConditionalCheckFailed" &&
		aws.ToString(reasons[0].Code) != "ConditionalCheckFailed" {
		return 0, fmt.Errorf("account %s: %s %s on %s: %w", pk, m.Currency, day, m.Provider, ErrOverflow)
	}
	if len(reasons) == 0 || aws.ToString(reasons[0].Code) != "ConditionalCheckFailed" {
		return 0, fmt.Errorf("account %s: transaction cancelled: %w", pk, err)
	}
	return s.explain(ctx, m)
}

// accountRecord is the transaction item that moves a flat message's record to accounted,
// conditioned on the state accounting may move from and on the message matching the record.
func (s *Store) accountRecord(m notification.Message, now string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:        aws.String(s.Table),
		Key:              txnKey(m.Provider, m.TransactionID),
		UpdateExpression: aws.String("SET #st = :accounted, accounted_at = :now, total_day = :day REMOVE last_error, gsi1pk, gsi1sk"),
		ConditionExpression: aws.String("attribute_exists(pk) AND payload_hash = :h AND amount_minor = :amt AND currency = :cur " +
			"AND (#st = :received OR #st = :replayed OR #st = :failed)"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":accounted": str(StatusAccounted), ":received": str(StatusReceived), ":replayed": str(StatusReplayed),
			":failed": str(StatusFailed), ":now": str(now), ":day": str(m.ReceivedAt.UTC().Format(DayLayout)),
			":h": str(m.PayloadHash), ":amt": num(m.AmountMinor), ":cur": str(m.Currency),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// totalKey names one daily total: a provider's day in one currency.
type totalKey struct{ provider, day, currency string }

// addToTotal is the transaction item that adds amount (of count transactions) to a daily
// total, refused when the total would overflow.
func (s *Store) addToTotal(k totalKey, amount, count int64) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.Table),
		Key:                      key(TotalPK(k.provider, k.day), "CUR#"+k.currency),
		UpdateExpression:         aws.String("ADD total_minor :amt, txn_count :n, net_minor :amt SET provider = :p, currency = :cur, #day = :day"),
		ConditionExpression:      aws.String("attribute_not_exists(total_minor) OR total_minor <= :limit"),
		ExpressionAttributeNames: map[string]string{"#day": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":amt": num(amount), ":n": num(count), ":p": str(k.provider), ":cur": str(k.currency), ":day": str(k.day),
			":limit": num(math.MaxInt64 - amount),
		},
	}}
}

// explain says why a record's accounting condition failed: already accounted (a
// redelivery), absent, another payload, or a state accounting may not move from.
func (s *Store) explain(ctx context.Context, m notification.Message) (AccountOutcome, error) {
	pk := TxnPK(m.Provider, m.TransactionID)
	t, err := s.Get(ctx, m.Provider, m.TransactionID)
	if err != nil {
		return 0, err
	}
	switch {
	case t == nil:
		return 0, fmt.Errorf("account %s: %w", pk, ErrNotFound)
	case t.PayloadHash != m.PayloadHash || t.AmountMinor != m.AmountMinor || t.Currency != m.Currency:
		return 0, fmt.Errorf("account %s: %w", pk, ErrMismatch)
	case t.Status == StatusAccounted:
		return AlreadyAccounted, nil
	default:
		return 0, fmt.Errorf("account %s: status %q: %w", pk, t.Status, ErrBadState)
	}
}

// NoteError stores the latest processing error on a transaction and counts the failed
// attempt (context for the failure record if the message later dies in the DLQ). Missing
// records are ignored.
func (s *Store) NoteError(ctx context.Context, provider, transactionID, reason string) error {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       txnKey(provider, transactionID),
		UpdateExpression:          aws.String("SET last_error = :e ADD failed_attempts :one"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": str(truncate(reason, 500)), ":one": num(1)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("note error on %s: %w", TxnPK(provider, transactionID), err)
	}
	return nil
}

func truncate(v string, max int) string {
	if len(v) <= max {
		return v
	}
	return v[:max]
}
