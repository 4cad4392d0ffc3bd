package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
)

// stripeFormat reads Stripe event objects. Which events move money:
//
//   - creditOn payment_intent.succeeded: the PaymentIntent's amount_received credits the
//     PaymentIntent (pi_...);
//   - creditOn charge.succeeded: a captured Charge's amount_captured credits the Charge
//     (ch_...); an uncaptured one is ignored until its charge.captured, which credits it;
//   - refundOn charge.refunded: the Charge's amount_refunded, everything refunded on it so
//     far, debits the transaction (Cumulative);
//   - refundOn refund.created: the Refund's amount debits the transaction;
//   - a refund's transaction is its PaymentIntent when credits come from PaymentIntents
//     (a charge without one, from the legacy Charges API, is its own transaction), else
//     its Charge.
//
// Every other type, the other choice of each pair included, is Ignored.
type stripeFormat struct {
	creditOn, refundOn string
}

// stripeEvent is the part of a Stripe event object payhook reads.
type stripeEvent struct {
	ID       string          `json:"id"`
	Object   string          `json:"object"`
	Type     string          `json:"type"`
	Livemode json.RawMessage `json:"livemode"`
	Data     *struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// stripeObject is the part of a PaymentIntent, Charge or Refund payhook reads.
type stripeObject struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	Amount         json.Number     `json:"amount"`
	AmountReceived json.Number     `json:"amount_received"`
	AmountCaptured json.Number     `json:"amount_captured"`
	AmountRefunded json.Number     `json:"amount_refunded"`
	Captured       *bool           `json:"captured"`
	Currency       string          `json:"currency"`
	PaymentIntent  json.RawMessage `json:"payment_intent"`
	Charge         json.RawMessage `json:"charge"`
}

func (s stripeFormat) decode(body []byte, _ http.Header) (Event, *notification.Error) {
	var ev stripeEvent
	if err := strictObject(body, &ev); err != nil {
		return Event{}, err
	}
	if ev.Object != "event" {
		return Event{}, invalid(notification.CodeInvalidValue, "object", `must be "event": post Stripe event objects here`)
	}
	e := Event{ID: ev.ID, Type: ev.Type}
	if err := checkID(ev.ID, "id"); err != nil {
		return Event{}, err
	}
	if err := checkType(ev.Type); err != nil {
		return Event{}, err
	}
	live, err := boolField(ev.Livemode, "livemode")
	if err != nil {
		return Event{}, err
	}
	e.Livemode = &live
	kind, objectType := s.classify(ev.Type)
	if kind == Ignored {
		e.Kind = Ignored
		return e, nil
	}
	if ev.Data == nil || len(ev.Data.Object) == 0 || ev.Data.Object[0] != '{' {
		return Event{}, invalid(notification.CodeMissingField, "data.object", "required: the %s the event is about", objectType)
	}
	var obj stripeObject
	if err := strictObject(ev.Data.Object, &obj); err != nil {
		err.Field = strings.TrimSuffix("data.object."+err.Field, ".")
		return Event{}, err
	}
	if obj.Object != objectType {
		return Event{}, invalid(notification.CodeInvalidValue, "data.object.object", "a %s event is about a %s, not %q", ev.Type, objectType, notification.Clip(obj.Object))
	}
	return s.movement(e, kind, obj)
}

// classify returns what an event type does, and the object it is about.
func (s stripeFormat) classify(t string) (Kind, string) {
	switch {
	case t == s.creditOn && t == contract.StripePaymentIntentSucceeded:
		return Credit, "payment_intent"
	case s.creditOn == contract.StripeChargeSucceeded && (t == contract.StripeChargeSucceeded || t == "charge.captured"):
		return Credit, "charge"
	case t == s.refundOn && t == contract.StripeChargeRefunded:
		return Debit, "charge"
	case t == s.refundOn && t == contract.StripeRefundCreated:
		return Debit, "refund"
	}
	return Ignored, ""
}

func (s stripeFormat) movement(e Event, kind Kind, obj stripeObject) (Event, *notification.Error) {
	e.Kind = kind
	var amountField string
	switch {
	case obj.Object == "payment_intent":
		amountField, e.TransactionID = "amount_received", obj.ID
	case obj.Object == "charge" && kind == Credit:
		if obj.Captured != nil && !*obj.Captured {
			// Authorized, not captured: no money moved yet; charge.captured credits it.
			return Event{ID: e.ID, Type: e.Type, Kind: Ignored, Reason: "uncaptured", Livemode: e.Livemode}, nil
		}
		amountField, e.TransactionID = "amount_captured", obj.ID
		if obj.AmountCaptured == "" {
			amountField = "amount" // API versions before amount_captured existed
		}
	case obj.Object == "charge":
		amountField, e.Cumulative = "amount_refunded", true
		e.TransactionID = s.refundTransaction(obj.PaymentIntent, obj.ID)
	default: // refund
		amountField = "amount"
		charge := idOf(obj.Charge)
		e.TransactionID = s.refundTransaction(obj.PaymentIntent, charge)
		if charge == "" && e.TransactionID == "" {
			return Event{}, invalid(notification.CodeMissingField, "data.object.charge", "required: the refunded charge")
		}
	}
	field := "data.object.id"
	if e.TransactionID != obj.ID {
		field = "data.object.payment_intent"
	}
	if err := checkID(e.TransactionID, field); err != nil {
		return Event{}, err
	}
	raw := map[string]json.Number{"amount": obj.Amount, "amount_received": obj.AmountReceived,
		"amount_captured": obj.AmountCaptured, "amount_refunded": obj.AmountRefunded}[amountField]
	n, err := integer(string(raw), "data.object."+amountField)
	if err != nil {
		return Event{}, err
	}
	if obj.Currency == "" {
		return Event{}, invalid(notification.CodeMissingField, "data.object.currency", "required")
	}
	amt, cerr := money.FromStripe(n, obj.Currency)
	switch {
	case errors.Is(cerr, money.ErrUnknownCurrency):
		return Event{}, invalid(notification.CodeUnknownCurrency, "data.object.currency", "%s", cerr.Error())
	case cerr != nil:
		return Event{}, invalid(notification.CodeInvalidAmount, "data.object."+amountField, "%s", cerr.Error())
	}
	e.Amount = amt
	return e, nil
}

// refundTransaction is the transaction a refund debits: the PaymentIntent when credits
// come from PaymentIntents and the charge has one, else the charge.
func (s stripeFormat) refundTransaction(paymentIntent json.RawMessage, charge string) string {
	if s.creditOn == contract.StripePaymentIntentSucceeded {
		if pi := idOf(paymentIntent); pi != "" {
			return pi
		}
	}
	return charge
}

// idOf reads an expandable Stripe field: an id string, or an expanded object's id.
func idOf(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
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

func boolField(raw json.RawMessage, field string) (bool, *notification.Error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "", "null":
		return false, invalid(notification.CodeMissingField, field, "required")
	default:
		return false, invalid(notification.CodeInvalidType, field, "must be true or false")
	}
}
