package payload

import (
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
//     far, debits the transaction (Cumulative). An uncaptured charge's (a released
//     authorization) is ignored, and in events rendered before API version 2025-03-31.basil
//     the uncaptured remainder of a partial capture, which Stripe then counted as refunded,
//     is taken off;
//   - refundOn refund.created: the Refund's amount debits the transaction;
//   - a refund's transaction is its PaymentIntent when credits come from PaymentIntents
//     (a refund of a charge without one, from the legacy Charges API, is ignored: that
//     payment was never credited), else its Charge.
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
	// APIVersion is the version data.object is rendered in.
	APIVersion string `json:"api_version"`
	Data       *struct {
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
	return s.movement(e, kind, obj, ev.APIVersion)
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

func (s stripeFormat) movement(e Event, kind Kind, obj stripeObject, apiVersion string) (Event, *notification.Error) {
	e.Kind = kind
	ignore := func(reason string) (Event, *notification.Error) {
		return Event{ID: e.ID, Type: e.Type, Kind: Ignored, Reason: reason, Livemode: e.Livemode}, nil
	}
	var n int64
	var field string
	var err *notification.Error
	switch {
	case obj.Object == "payment_intent":
		e.TransactionID, field = obj.ID, "amount_received"
		n, err = integer(string(obj.AmountReceived), "data.object.amount_received")
	case obj.Object == "charge" && kind == Credit:
		if obj.Captured != nil && !*obj.Captured {
			return ignore("uncaptured") // authorized only; charge.captured credits it
		}
		e.TransactionID, field = obj.ID, "amount_captured"
		raw := obj.AmountCaptured
		if raw == "" {
			field, raw = "amount", obj.Amount // API versions before amount_captured existed
		}
		n, err = integer(string(raw), "data.object."+field)
	case obj.Object == "charge":
		if obj.Captured != nil && !*obj.Captured {
			return ignore("uncaptured") // an authorization released: no money had moved
		}
		var ok bool
		if e.TransactionID, ok = s.refundTransaction(obj.PaymentIntent, obj.ID); !ok {
			return ignore("no PaymentIntent")
		}
		field, e.Cumulative = "amount_refunded", true
		if n, err = s.refunded(obj, apiVersion); err == nil && n <= 0 {
			return ignore("capture reversal")
		}
	default: // refund
		charge := idOf(obj.Charge)
		var ok bool
		if e.TransactionID, ok = s.refundTransaction(obj.PaymentIntent, charge); !ok {
			return ignore("no PaymentIntent")
		}
		if e.TransactionID == "" {
			return Event{}, invalid(notification.CodeMissingField, "data.object.charge", "required: the refunded charge")
		}
		field = "amount"
		n, err = integer(string(obj.Amount), "data.object.amount")
	}
	if err != nil {
		return Event{}, err
	}
	idField := "data.object.id"
	if e.TransactionID != obj.ID {
		idField = "data.object.payment_intent"
	}
	if err := checkID(e.TransactionID, idField); err != nil {
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
		return Event{}, invalid(notification.CodeInvalidAmount, "data.object."+field, "%s", cerr.Error())
	}
	e.Amount = amt
	return e, nil
}

// basil is the Stripe API version from which partial captures and cancellations no longer
// create refunds: a charge's amount_refunded then holds refunds of captured money only.
// Before it, amount_refunded also held the uncaptured remainder of a partial capture
// (docs.stripe.com/changelog/basil/2025-03-31/remove-refund-from-partial-capture-and-payment-cancellation-flow).
const basil = "2025-03-31"

// refunded is what a charge.refunded event's charge had refunded of its captured money: its
// amount_refunded, less (for events rendered before basil) the uncaptured remainder of a
// partial capture.
func (s stripeFormat) refunded(obj stripeObject, apiVersion string) (int64, *notification.Error) {
	n, err := integer(string(obj.AmountRefunded), "data.object.amount_refunded")
	if err != nil || obj.AmountCaptured == "" || len(apiVersion) >= len(basil) && apiVersion[:len(basil)] >= basil {
		return n, err
	}
	amount, err := integer(string(obj.Amount), "data.object.amount")
	if err != nil {
		return 0, err
	}
	captured, err := integer(string(obj.AmountCaptured), "data.object.amount_captured")
	if err != nil {
		return 0, err
	}
	if captured > amount {
		return 0, invalid(notification.CodeInvalidAmount, "data.object.amount_captured", "more than the charge's amount")
	}
	return n - (amount - captured), nil
}

// refundTransaction is the transaction a refund debits: the PaymentIntent when credits
// come from PaymentIntents (ok is false for a charge without one: its payment was never
// credited, so its refunds are not debited either), else the charge.
func (s stripeFormat) refundTransaction(paymentIntent json.RawMessage, charge string) (string, bool) {
	if s.creditOn == contract.StripePaymentIntentSucceeded {
		pi := idOf(paymentIntent)
		return pi, pi != ""
	}
	return charge, true
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
