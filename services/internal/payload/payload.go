// Package payload reads what a provider posts in a format other than payhook's flat
// notification (package notification): Stripe event objects and Standard Webhooks
// envelopes. Each delivery becomes an Event: the provider's event id (the deduplication
// key), its type, and whether it credits a payment, debits a refund from one, or moves no
// money at all.
//
// Decoders run after the signature check, on a body the provider signed: they are lenient
// about fields they do not read (providers add fields without notice) and strict about
// the ones they do, each error naming the field.
package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
)

// Kind is what an event does to a payment's money.
type Kind string

// Kinds of event.
const (
	// Credit adds a payment.
	Credit Kind = "credit"
	// Debit takes a refund off a payment.
	Debit Kind = "debit"
	// Ignored moves no money: it is answered 200 and recorded with its type.
	Ignored Kind = "ignored"
)

// MaxTypeLen bounds an event type.
const MaxTypeLen = 128

// Event is one provider event, decoded.
type Event struct {
	// ID is the provider's event id (Stripe's evt_..., Standard Webhooks' webhook-id):
	// one record per provider and ID.
	ID string
	// Type is the provider's event type, e.g. payment_intent.succeeded.
	Type string
	// Kind is what the event does to the payment's money.
	Kind Kind
	// Unmapped is true for an Ignored event whose type no list of the mapping names (a
	// type the operator may have forgotten; Stripe events are never Unmapped).
	Unmapped bool
	// Reason says why a Stripe event of a money-moving type is Ignored ("" otherwise).
	Reason string
	// TransactionID is the payment the event credits or debits (empty when Ignored).
	TransactionID string
	// Amount is the credit, or the refund: this event's alone, or with Cumulative
	// everything refunded on the transaction so far.
	Amount money.Amount
	// Cumulative marks a debit whose Amount is the running total of refunds (Stripe's
	// charge.refunded): accounting counts the difference to what it counted before.
	Cumulative bool
	// Livemode is the event's livemode flag, nil when the format has none.
	Livemode *bool
}

// Hash is the event's fingerprint for idempotency: the same for two deliveries of one
// event, whatever else in the body changed between them (Stripe's pending_webhooks does),
// and different when anything payhook reads from it differs.
func (e Event) Hash(provider string) string {
	h := sha256.New()
	fmt.Fprintf(h, "payhook/event/v1\n%s\n%s\n%s\n%s\n", provider, e.ID, e.Type, e.Kind)
	if e.Kind != Ignored {
		fmt.Fprintf(h, "%s\n%d\n%s\n%t\n", e.TransactionID, e.Amount.Minor, e.Amount.Currency.Code, e.Cumulative)
	}
	if e.Livemode != nil {
		fmt.Fprintf(h, "livemode=%t\n", *e.Livemode)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Decoder reads one delivery: its body and headers.
type Decoder func(body []byte, headers http.Header) (Event, *notification.Error)

// NewDecoder returns the decoder of a provider's format.
func NewDecoder(f contract.PayloadFormat) (Decoder, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.WithDefaults()
	switch f.Format {
	case contract.FormatStripe:
		s := stripeFormat{creditOn: f.CreditOn, refundOn: f.RefundOn}
		return s.decode, nil
	default:
		m := mapping{Mapping: *f.Mapping}
		return m.decode, nil
	}
}

func invalid(code, field, format string, args ...any) *notification.Error {
	return notification.FieldError(code, field, format, args...)
}

// strictObject decodes one JSON object into v, numbers kept exact, with the decoder's
// type errors turned into errors naming the field.
func strictObject(body []byte, v any) *notification.Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return invalid(notification.CodeInvalidJSON, "", "body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return invalid(notification.CodeInvalidType, ute.Field, "must be a %s", ute.Type.String())
		}
		return invalid(notification.CodeInvalidJSON, "", "body is not valid JSON")
	}
	if dec.More() {
		return invalid(notification.CodeInvalidJSON, "", "body must hold exactly one JSON object")
	}
	return nil
}

// checkID checks an event or transaction id.
func checkID(id, field string) *notification.Error {
	if id == "" {
		return invalid(notification.CodeMissingField, field, "required")
	}
	if !notification.ValidID(id) {
		return invalid(notification.CodeInvalidValue, field, "must be 1 to %d characters from A-Z a-z 0-9 . _ : -",
			notification.MaxTransactionIDLen)
	}
	return nil
}

// checkType checks an event type.
func checkType(t string) *notification.Error {
	if t == "" {
		return invalid(notification.CodeMissingField, "type", "required")
	}
	if len(t) > MaxTypeLen {
		return invalid(notification.CodeInvalidValue, "type", "longer than %d bytes", MaxTypeLen)
	}
	for _, r := range t {
		if r < 0x21 || r > 0x7e {
			return invalid(notification.CodeInvalidValue, "type", "must be printable ASCII without spaces")
		}
	}
	return nil
}

// integer parses a JSON integer literal (no sign, fraction or exponent).
func integer(raw string, field string) (int64, *notification.Error) {
	if raw == "" || raw == "null" {
		return 0, invalid(notification.CodeMissingField, field, "required")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return 0, invalid(notification.CodeInvalidType, field, "must be a non-negative integer")
		}
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, invalid(notification.CodeInvalidAmount, field, "out of range")
	}
	return v, nil
}
