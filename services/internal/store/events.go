package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/payload"
)

// LedgerSK is the sort key of a payment's ledger, beside its events' records.
const LedgerSK = "LEDGER"

// ErrCurrencyMismatch means an event's currency differs from its payment's.
var ErrCurrencyMismatch = errors.New("event currency differs from the payment's")

// errLedgerMoved means another event of the same payment was accounted between the
// ledger's read and the write: Account reads it again.
var errLedgerMoved = errors.New("payment ledger changed concurrently")

// Ledger is what payhook knows of one payment from its provider's events: every event
// that moved (or was counted against) it, what was credited and refunded, and which
// event credited it.
type Ledger struct {
	Provider      string   `dynamodbav:"provider"`
	TransactionID string   `dynamodbav:"transaction_id"`
	Currency      string   `dynamodbav:"currency"`
	Events        []string `dynamodbav:"events,stringset,omitempty"`
	CreditedBy    string   `dynamodbav:"credited_by,omitempty"`
	CreditedMinor int64    `dynamodbav:"credited_minor"`
	DebitedMinor  int64    `dynamodbav:"debited_minor"`
	// RefundedHigh is the largest cumulative refunded amount seen (charge.refunded).
	RefundedHigh int64  `dynamodbav:"refunded_high"`
	Version      int64  `dynamodbav:"version"`
	UpdatedAt    string `dynamodbav:"updated_at"`
}

// NetMinor is what the payment is worth after its refunds.
func (l Ledger) NetMinor() int64 { return l.CreditedMinor - l.DebitedMinor }

// NewEventRecord builds the record of a provider event. A money-moving event starts on the
// outbox like a flat notification; an ignored one is recorded as ignored and never queued.
func NewEventRecord(provider string, e payload.Event, hash, requestID string, receivedAt time.Time) Transaction {
	pk := TxnPK(provider, e.ID)
	at := receivedAt.UTC().Format(TimeLayout)
	t := Transaction{
		PK: pk, SK: "TXN",
		Provider: provider, TransactionID: e.ID, PayloadHash: hash, ReceivedAt: at, RequestID: requestID,
		EventType: e.Type, Kind: string(e.Kind),
	}
	if e.Kind == payload.Ignored {
		t.Status, t.CountedNote = StatusIgnored, e.Reason
		return t
	}
	t.Status = StatusReceived
	t.AmountMinor, t.Currency = e.Amount.Minor, e.Amount.Currency.Code
	t.PaymentID, t.Cumulative = e.TransactionID, e.Cumulative
	t.GSI1PK, t.GSI1SK = outboxShard(pk), at+"#"+pk
	return t
}

// Promote replaces the record of an event recorded as ignored with t, the same event now
// read as moving money (its provider's format changed since), on the outbox; false when the
// record is no longer that ignored one (promoted concurrently).
func (s *Store) Promote(ctx context.Context, t Transaction, ignoredHash string) (bool, error) {
	err := s.put(ctx, t, "#st = :ignored AND payload_hash = :h", map[string]string{"#st": "status"},
		map[string]types.AttributeValue{":ignored": str(StatusIgnored), ":h": str(ignoredHash)})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("promote event %s: %w", t.PK, err)
	}
	return true, nil
}

// GetLedger reads a payment's ledger (strongly consistent); nil when no event named it.
func (s *Store) GetLedger(ctx context.Context, provider, transactionID string) (*Ledger, error) {
	return getItem[Ledger](ctx, s, TxnPK(provider, transactionID), LedgerSK, "ledger")
}

// counted is what an event adds to its payment's totals given the ledger: a credit
// counts once per payment (a second credit event of the same payment counts nothing), a
// delta debit its amount, a cumulative debit what it adds to the largest cumulative
// amount seen, so refunds arriving in any order count their sum exactly once. A cumulative
// debit measures from what was debited if that is more (refunds counted one by one before
// the provider's refund event changed from delta to cumulative), so none counts twice.
func counted(m notification.Message, l Ledger) (amount, high int64, note string) {
	if m.Cumulative && l.DebitedMinor > l.RefundedHigh {
		l.RefundedHigh = l.DebitedMinor
	}
	switch {
	case m.Kind == notification.KindCredit && l.CreditedBy != "" && l.CreditedBy != m.TransactionID:
		return 0, l.RefundedHigh, "payment already credited by " + l.CreditedBy
	case m.Kind == notification.KindCredit:
		return m.AmountMinor, l.RefundedHigh, ""
	case m.Cumulative && m.AmountMinor <= l.RefundedHigh:
		return 0, l.RefundedHigh, "cumulative refund already counted"
	case m.Cumulative:
		return m.AmountMinor - l.RefundedHigh, m.AmountMinor, ""
	default:
		return m.AmountMinor, l.RefundedHigh, ""
	}
}

// accountEvent accounts an event message in one DynamoDB transaction: its record moves to
// accounted with what it counted, its payment's ledger (optimistically versioned) lists it
// and moves, and the day's totals move by what it counted, which it returns.
func (s *Store) accountEvent(ctx context.Context, m notification.Message) (AccountOutcome, int64, error) {
	pk := TxnPK(m.Provider, m.TransactionID)
	prev, err := s.GetLedger(ctx, m.Provider, m.PaymentID)
	if err != nil {
		return 0, 0, err
	}
	l := Ledger{}
	if prev != nil {
		l = *prev
	}
	if l.Currency != "" && l.Currency != m.Currency {
		return 0, 0, fmt.Errorf("account %s: %s on %s %s: %w", pk, m.Currency, l.Currency, TxnPK(m.Provider, m.PaymentID), ErrCurrencyMismatch)
	}
	amount, high, note := counted(m, l)
	day := m.ReceivedAt.UTC().Format(DayLayout)
	now := s.now().Format(TimeLayout)
	items := []types.TransactWriteItem{s.eventRecordUpdate(m, amount, note, day, now), s.ledgerUpdate(m, l, amount, high, now)}
	if amount > 0 {
		items = append(items, s.totalsUpdate(m, amount, day))
	}
	_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return Accounted, amount, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return 0, 0, fmt.Errorf("account %s: %w", pk, err)
	}
	failed := func(i int) bool {
		return i < len(tce.CancellationReasons) && aws.ToString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed"
	}
	switch {
	case failed(0):
		out, err := s.explain(ctx, m)
		return out, 0, err
	case failed(1):
		return 0, 0, fmt.Errorf("account %s: %w", pk, errLedgerMoved)
	case failed(2):
		return 0, 0, fmt.Errorf("account %s: %s %s on %s: %w", pk, m.Currency, day, m.Provider, ErrOverflow)
	}
	return 0, 0, fmt.Errorf("account %s: transaction cancelled: %w", pk, err)
}

func (s *Store) eventRecordUpdate(m notification.Message, amount int64, note, day, now string) types.TransactWriteItem {
	set := "SET #st = :accounted, accounted_at = :now, total_day = :day, counted_minor = :counted"
	vals := map[string]types.AttributeValue{
		":accounted": str(StatusAccounted), ":received": str(StatusReceived), ":replayed": str(StatusReplayed),
		":failed": str(StatusFailed), ":now": str(now), ":day": str(day), ":h": str(m.PayloadHash),
		":amt": num(m.AmountMinor), ":cur": str(m.Currency), ":counted": num(amount), ":pay": str(m.PaymentID),
	}
	if note != "" {
		set += ", counted_note = :note"
		vals[":note"] = str(note)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:        aws.String(s.Table),
		Key:              txnKey(m.Provider, m.TransactionID),
		UpdateExpression: aws.String(set + " REMOVE last_error, gsi1pk, gsi1sk"),
		ConditionExpression: aws.String("attribute_exists(pk) AND payload_hash = :h AND amount_minor = :amt AND currency = :cur " +
			"AND payment_id = :pay AND (#st = :received OR #st = :replayed OR #st = :failed)"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: vals,
	}}
}

func (s *Store) ledgerUpdate(m notification.Message, l Ledger, amount, high int64, now string) types.TransactWriteItem {
	credit, debit := int64(0), int64(0)
	set := "SET provider = :p, transaction_id = :t, currency = :cur, #v = :next, refunded_high = :high, updated_at = :now"
	vals := map[string]types.AttributeValue{
		":p": str(m.Provider), ":t": str(m.PaymentID), ":cur": str(m.Currency), ":next": num(l.Version + 1),
		":high": num(high), ":now": str(now), ":ev": &types.AttributeValueMemberSS{Value: []string{m.TransactionID}},
	}
	if m.Kind == notification.KindCredit {
		credit = amount
		if amount > 0 {
			set += ", credited_by = :by"
			vals[":by"] = str(m.TransactionID)
		}
	} else {
		debit = amount
	}
	vals[":c"], vals[":d"] = num(credit), num(debit)
	cond := "attribute_not_exists(pk)"
	if l.Version > 0 {
		cond = "#v = :v"
		vals[":v"] = num(l.Version)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.Table),
		Key:                       key(TxnPK(m.Provider, m.PaymentID), LedgerSK),
		UpdateExpression:          aws.String(set + " ADD events :ev, credited_minor :c, debited_minor :d"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: vals,
	}}
}

func (s *Store) totalsUpdate(m notification.Message, amount int64, day string) types.TransactWriteItem {
	sum, count, net := "total_minor", "txn_count", amount
	if m.Kind == notification.KindDebit {
		sum, count, net = "debit_minor", "debit_count", -amount
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.Table),
		Key:                      key(TotalPK(m.Provider, day), "CUR#"+m.Currency),
		UpdateExpression:         aws.String("ADD " + sum + " :amt, " + count + " :one, net_minor :net SET provider = :p, currency = :cur, #day = :day"),
		ConditionExpression:      aws.String("attribute_not_exists(" + sum + ") OR " + sum + " <= :limit"),
		ExpressionAttributeNames: map[string]string{"#day": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":amt": num(amount), ":one": num(1), ":net": num(net), ":p": str(m.Provider), ":cur": str(m.Currency),
			":day": str(day), ":limit": num(math.MaxInt64 - amount),
		},
	}}
}
