// Package sample builds provider events as the providers send them, from the providers'
// own types (stripe-go's Event, PaymentIntent, Charge and Refund): for tests, the smoke and
// load tests and local mode's example request. The Lambda functions never link it.
package sample

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
)

// StripeEvent marshals a Stripe event object of type t about object.
func StripeEvent(id string, t stripe.EventType, live bool, object any) ([]byte, error) {
	raw, err := json.Marshal(object)
	if err != nil {
		return nil, fmt.Errorf("sample: marshal %s object: %w", t, err)
	}
	ev := stripe.Event{
		ID: id, Object: "event", Type: t, Livemode: live, APIVersion: stripe.APIVersion,
		Created: time.Now().Unix(), PendingWebhooks: 1, Data: &stripe.EventData{Raw: raw},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("sample: marshal %s event: %w", t, err)
	}
	return b, nil
}

func stripeAmount(a money.Amount) (int64, stripe.Currency, error) {
	n, err := money.ToStripe(a)
	return n, stripe.Currency(strings.ToLower(a.Currency.Code)), err
}

// PaymentIntentSucceeded is a payment_intent.succeeded event for a payment of amount.
func PaymentIntentSucceeded(eventID, paymentIntent string, amount money.Amount, live bool) ([]byte, error) {
	n, cur, err := stripeAmount(amount)
	if err != nil {
		return nil, err
	}
	return StripeEvent(eventID, stripe.EventTypePaymentIntentSucceeded, live, &stripe.PaymentIntent{
		ID: paymentIntent, Object: "payment_intent", Amount: n, AmountReceived: n, Currency: cur,
		Status: stripe.PaymentIntentStatusSucceeded, Livemode: live,
	})
}

// Charge is a captured charge of amount for paymentIntent ("" for a legacy charge), with
// refunded (zero for none) refunded so far.
func Charge(id, paymentIntent string, amount, refunded money.Amount, live bool) (*stripe.Charge, error) {
	n, cur, err := stripeAmount(amount)
	if err != nil {
		return nil, err
	}
	var r int64
	if refunded.Minor != 0 {
		if r, _, err = stripeAmount(refunded); err != nil {
			return nil, err
		}
	}
	c := &stripe.Charge{ID: id, Object: "charge", Amount: n, AmountCaptured: n, AmountRefunded: r, Captured: true,
		Paid: true, Refunded: r == n, Currency: cur, Status: stripe.ChargeStatusSucceeded, Livemode: live}
	if paymentIntent != "" {
		c.PaymentIntent = &stripe.PaymentIntent{ID: paymentIntent}
	}
	return c, nil
}

// ChargeRefunded is a charge.refunded event: refunded is everything refunded on the
// charge so far, as Stripe sends it.
func ChargeRefunded(eventID, charge, paymentIntent string, amount, refunded money.Amount, live bool) ([]byte, error) {
	c, err := Charge(charge, paymentIntent, amount, refunded, live)
	if err != nil {
		return nil, err
	}
	return StripeEvent(eventID, stripe.EventTypeChargeRefunded, live, c)
}

// RefundCreated is a refund.created event for one refund of amount.
func RefundCreated(eventID, refund, charge, paymentIntent string, amount money.Amount, live bool) ([]byte, error) {
	n, cur, err := stripeAmount(amount)
	if err != nil {
		return nil, err
	}
	r := &stripe.Refund{ID: refund, Object: "refund", Amount: n, Currency: cur, Status: stripe.RefundStatusSucceeded,
		Charge: &stripe.Charge{ID: charge}}
	if paymentIntent != "" {
		r.PaymentIntent = &stripe.PaymentIntent{ID: paymentIntent}
	}
	return StripeEvent(eventID, stripe.EventTypeRefundCreated, live, r)
}

// CustomerCreated is an event that moves no money.
func CustomerCreated(eventID string, live bool) ([]byte, error) {
	return StripeEvent(eventID, stripe.EventTypeCustomerCreated, live, &stripe.Customer{ID: "cus_" + eventID, Object: "customer"})
}

// Envelope is a Standard Webhooks envelope: {"type", "timestamp", "data"}.
func Envelope(t string, at time.Time, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"type": t, "timestamp": at.UTC().Format(time.RFC3339), "data": data})
	return b
}

// MappedEnvelope is a Standard Webhooks envelope of type t that mapping m reads as a
// movement of amount on transactionID: each value sits where m's pointer says, the amount
// in m's unit, livemode only where m has a pointer for it.
func MappedEnvelope(m contract.Mapping, t, transactionID string, amount money.Amount, live bool, at time.Time) ([]byte, error) {
	doc := map[string]any{"type": t, "timestamp": at.UTC().Format(time.RFC3339)}
	var amt any = amount.Decimal()
	if m.AmountUnit == contract.UnitMinor {
		amt = amount.Minor
	}
	for _, v := range []struct {
		ptr   string
		value any
	}{{m.TransactionID, transactionID}, {m.Amount, amt}, {m.Currency, amount.Currency.Code}, {m.Livemode, live}} {
		if v.ptr == "" {
			continue
		}
		if err := set(doc, v.ptr, v.value); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}

// set puts value at an RFC 6901 pointer, creating the objects on the way.
func set(doc map[string]any, pointer string, value any) error {
	toks := strings.Split(pointer[1:], "/")
	cur := doc
	for i, tok := range toks {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if i == len(toks)-1 {
			if _, taken := cur[tok]; taken {
				return fmt.Errorf("sample: %s points at a value already set", pointer)
			}
			cur[tok] = value
			return nil
		}
		next, ok := cur[tok].(map[string]any)
		if !ok {
			if _, taken := cur[tok]; taken {
				return fmt.Errorf("sample: %s goes through a value that is not an object", pointer)
			}
			next = map[string]any{}
			cur[tok] = next
		}
		cur = next
	}
	return nil
}
