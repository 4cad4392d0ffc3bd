package notification

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/payhook/payhook/services/internal/money"
)

// Queue message versions: MessageVersion for payhook's flat notifications (what every
// release has written), EventMessageVersion for provider events, which carry what the
// event does. Accounting reads both; a release that predates events refuses version 2
// with a clear error instead of misreading it.
const (
	MessageVersion      = 1
	EventMessageVersion = 2
)

// Kinds of event message (package payload's Kind).
const (
	KindCredit = "credit"
	KindDebit  = "debit"
)

// Message is what ingest (and the outbox reconciler, and replay) put on the queue for
// accounting: the record's key, the exact amount, and the payload hash that accounting
// checks against the stored record.
type Message struct {
	Version       int       `json:"v"`
	Provider      string    `json:"provider"`
	TransactionID string    `json:"transaction_id"`
	AmountMinor   int64     `json:"amount_minor"`
	Currency      string    `json:"currency"`
	PayloadHash   string    `json:"payload_hash"`
	ReceivedAt    time.Time `json:"received_at"`
	// Version 2 only. TransactionID is then the provider's event id (the record's key),
	// PaymentID the payment it moves money on, Kind credit or debit, and Cumulative marks
	// an amount that is everything refunded on PaymentID so far.
	EventType  string `json:"event_type,omitempty"`
	Kind       string `json:"kind,omitempty"`
	PaymentID  string `json:"payment_id,omitempty"`
	Cumulative bool   `json:"cumulative,omitempty"`
}

// WithEvent makes m an event message (version 2) when kind is set.
func (m Message) WithEvent(eventType, kind, paymentID string, cumulative bool) Message {
	if kind == "" {
		return m
	}
	m.Version, m.EventType, m.Kind, m.PaymentID, m.Cumulative = EventMessageVersion, eventType, kind, paymentID, cumulative
	return m
}

// NewMessage builds the queue message for an accepted notification.
func NewMessage(n Notification, hash string, receivedAt time.Time) Message {
	return Message{
		Version:       MessageVersion,
		Provider:      n.Provider,
		TransactionID: n.TransactionID,
		AmountMinor:   n.Amount.Minor,
		Currency:      n.Amount.Currency.Code,
		PayloadHash:   hash,
		ReceivedAt:    receivedAt.UTC(),
	}
}

// Body encodes the message as the SQS message body.
func (m Message) Body() string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("notification: encode message: %v", err)) // plain struct: cannot fail
	}
	return string(b)
}

// ParseMessage strictly decodes and checks a queue message body. A message that fails here
// is poison: accounting reports it as a batch item failure until it reaches the DLQ.
func ParseMessage(body string) (Message, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("decode queue message: %w", err)
	}
	if dec.More() {
		return Message{}, fmt.Errorf("decode queue message: trailing data")
	}
	switch m.Version {
	case MessageVersion:
		if m.Kind != "" || m.PaymentID != "" || m.EventType != "" || m.Cumulative {
			return Message{}, fmt.Errorf("queue message: version 1 carries no event fields")
		}
	case EventMessageVersion:
		if m.Kind != KindCredit && m.Kind != KindDebit {
			return Message{}, fmt.Errorf("queue message: kind %q, want credit or debit", clip(m.Kind))
		}
		if !ValidID(m.PaymentID) {
			return Message{}, fmt.Errorf("queue message: bad payment_id")
		}
		if m.EventType == "" || len(m.EventType) > 128 {
			return Message{}, fmt.Errorf("queue message: bad event_type")
		}
		if m.Cumulative && m.Kind != KindDebit {
			return Message{}, fmt.Errorf("queue message: only a debit is cumulative")
		}
	default:
		return Message{}, fmt.Errorf("queue message version %d, want %d or %d", m.Version, MessageVersion, EventMessageVersion)
	}
	if m.Provider == "" || len(m.Provider) > MaxProviderLen || !safeChars(m.Provider) {
		return Message{}, fmt.Errorf("queue message: bad provider")
	}
	if m.TransactionID == "" || len(m.TransactionID) > MaxTransactionIDLen || !safeChars(m.TransactionID) {
		return Message{}, fmt.Errorf("queue message: bad transaction_id")
	}
	if _, ok := money.LookupCurrency(m.Currency); !ok {
		return Message{}, fmt.Errorf("queue message: unknown currency %q", clip(m.Currency))
	}
	if m.AmountMinor < 1 || m.AmountMinor > money.MaxMinor {
		return Message{}, fmt.Errorf("queue message: amount_minor %d out of range", m.AmountMinor)
	}
	if len(m.PayloadHash) != 64 {
		return Message{}, fmt.Errorf("queue message: bad payload_hash")
	}
	if m.ReceivedAt.IsZero() {
		return Message{}, fmt.Errorf("queue message: missing received_at")
	}
	return m, nil
}

// MessageIdentity reads the provider and transaction id of a queue message body that
// ParseMessage refuses (a currency withdrawn since, a newer message version), without any
// other check: ok is false when the body is not a JSON object with both, well formed.
func MessageIdentity(body string) (provider, transactionID string, ok bool) {
	var id struct {
		Provider      string `json:"provider"`
		TransactionID string `json:"transaction_id"`
	}
	if err := json.Unmarshal([]byte(body), &id); err != nil {
		return "", "", false
	}
	if id.Provider == "" || len(id.Provider) > MaxProviderLen || !safeChars(id.Provider) ||
		id.TransactionID == "" || len(id.TransactionID) > MaxTransactionIDLen || !safeChars(id.TransactionID) {
		return "", "", false
	}
	return id.Provider, id.TransactionID, true
}
