package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/payload/sample"
)

// Events reports whether p posts events (Stripe's or Standard Webhooks envelopes) rather
// than payhook's flat notification.
func (p Provider) Events() bool { return p.Format != nil }

// PaymentID is the payment a delivery with id credits: id itself for a flat notification or
// an envelope, the PaymentIntent (pi_<id>) or the Charge (ch_<id>) for Stripe.
func (p Provider) PaymentID(id string) string {
	switch {
	case p.Format == nil || p.Format.Format != contract.FormatStripe:
		return id
	case p.Format.CreditOn == contract.StripeChargeSucceeded:
		return "ch_" + id
	default:
		return "pi_" + id
	}
}

// Credit builds a delivery, with record id id, that credits amount to PaymentID(id), in
// p's format: payhook's flat notification, Stripe's credit event, or an envelope of the
// mapping's first credit type.
func (p Provider) Credit(id string, amount money.Amount, live bool) ([]byte, error) {
	switch {
	case p.Format == nil:
		return Payload(p.Name, id, amount.Decimal(), amount.Currency.Code), nil
	case p.Format.Format == contract.FormatStripe && p.Format.CreditOn == contract.StripeChargeSucceeded:
		c, err := sample.Charge(p.PaymentID(id), "", amount, money.Amount{}, live)
		if err != nil {
			return nil, err
		}
		return sample.StripeEvent(id, contract.StripeChargeSucceeded, live, c)
	case p.Format.Format == contract.FormatStripe:
		return sample.PaymentIntentSucceeded(id, p.PaymentID(id), amount, live)
	default:
		return sample.MappedEnvelope(*p.Format.Mapping, p.Format.Mapping.Credit[0], id, amount, live, time.Now())
	}
}

// Refund builds a delivery, with event id id, that refunds refunded (everything refunded
// so far, which for a first refund is that refund) of the payment of amount that
// Credit(paymentID) credited.
func (p Provider) Refund(id, paymentID string, amount, refunded money.Amount, live bool) ([]byte, error) {
	f := p.Format
	switch {
	case f == nil:
		return nil, fmt.Errorf("provider %s posts payhook's flat notification, which has no refunds", p.Name)
	case f.Format == contract.FormatStripe:
		pay := p.PaymentID(paymentID)
		charge, intent := pay, ""
		if f.CreditOn == contract.StripePaymentIntentSucceeded {
			charge, intent = "ch_"+paymentID, pay
		}
		if f.RefundOn == contract.StripeRefundCreated {
			return sample.RefundCreated(id, "re_"+id, charge, intent, refunded, live)
		}
		return sample.ChargeRefunded(id, charge, intent, amount, refunded, live)
	case len(f.Mapping.Debit) == 0:
		return nil, fmt.Errorf("provider %s's mapping lists no debit type", p.Name)
	default:
		return sample.MappedEnvelope(*f.Mapping, f.Mapping.Debit[0], paymentID, refunded, live, time.Now())
	}
}

// Ignorable builds an event of p's that moves no money: a Stripe customer.created, or an
// envelope of the mapping's first ignored type.
func (p Provider) Ignorable(id string, live bool) ([]byte, error) {
	switch {
	case p.Format == nil:
		return nil, fmt.Errorf("provider %s posts payhook's flat notification, which has no events", p.Name)
	case p.Format.Format == contract.FormatStripe:
		return sample.CustomerCreated(id, live)
	case !p.Ignores():
		return nil, fmt.Errorf("provider %s's mapping lists no ignored type", p.Name)
	default:
		m := p.Format.Mapping
		return sample.MappedEnvelope(contract.Mapping{Livemode: m.Livemode}, m.Ignored[0], "", money.Amount{}, live, time.Now())
	}
}

// Ignores reports whether p has an event type that moves no money to send (Ignorable):
// Stripe's do, a mapping's when it lists ignored types.
func (p Provider) Ignores() bool {
	return p.Format != nil && (p.Format.Format == contract.FormatStripe || len(p.Format.Mapping.Ignored) > 0)
}

// Deliver posts a delivery as p would: a flat notification to the API-key route (Send),
// events to p's own route, <endpoint>/<name>, without the API key; id is the Standard
// Webhooks message id (webhook-id), the same on every redelivery.
func (c *Client) Deliver(ctx context.Context, p Provider, id string, body []byte) (Response, error) {
	if !p.Events() {
		return c.Send(ctx, p, body)
	}
	return c.post(ctx, c.Target.Endpoint+"/"+p.Name, p, id, body)
}
