package contract

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Environment variables of ingest about what providers post.
const (
	// EnvPayloadFormats holds each provider's payload format (FormatsSpec), for providers
	// that do not post payhook's own flat notification.
	EnvPayloadFormats = "PAYLOAD_FORMATS"
	// EnvLive is "true" in an environment that takes live payments (envs: live).
	EnvLive = "PAYHOOK_LIVE"
)

// Payload formats a provider may post.
const (
	// FormatPayhook is payhook's flat notification (transaction_id, amount, currency,
	// provider, metadata): the default.
	FormatPayhook = "payhook"
	// FormatStripe is Stripe's event object (id evt_..., type, livemode, data.object).
	FormatStripe = "stripe"
	// FormatStandardWebhooks is a Standard Webhooks envelope (type, timestamp, data), read
	// through a Mapping, deduplicated on the webhook-id header.
	FormatStandardWebhooks = "standard-webhooks"
)

// Stripe events that move money, and the default of each choice.
const (
	StripePaymentIntentSucceeded = "payment_intent.succeeded"
	StripeChargeSucceeded        = "charge.succeeded"
	StripeChargeRefunded         = "charge.refunded"
	StripeRefundCreated          = "refund.created"
)

// Units of a Standard Webhooks mapping's amount.
const (
	UnitMinor   = "minor"   // an integer count of the currency's ISO 4217 minor units
	UnitDecimal = "decimal" // a decimal in major units ("12.34"), as a JSON number or string
)

// What a debit event's amount is.
const (
	DebitDelta      = "delta"      // the amount this event refunds
	DebitCumulative = "cumulative" // everything refunded on the transaction so far
)

// PayloadFormat is one provider's payload format as ingest reads it from EnvPayloadFormats.
type PayloadFormat struct {
	// Format is FormatStripe or FormatStandardWebhooks (FormatPayhook needs no entry).
	Format string `json:"format"`
	// CreditOn is the Stripe event that credits a payment: StripePaymentIntentSucceeded
	// (the default) or StripeChargeSucceeded.
	CreditOn string `json:"credit_on,omitempty"`
	// RefundOn is the Stripe event that debits a refund: StripeChargeRefunded (the
	// default; it carries the cumulative refunded amount) or StripeRefundCreated (one
	// refund's amount).
	RefundOn string `json:"refund_on,omitempty"`
	// Mapping reads a Standard Webhooks envelope.
	Mapping *Mapping `json:"mapping,omitempty"`
}

// Mapping says where a Standard Webhooks envelope holds a payment movement: JSON pointers
// (RFC 6901) into the whole envelope, and which event types move money which way.
type Mapping struct {
	TransactionID string   `json:"transaction_id"`
	Amount        string   `json:"amount"`
	AmountUnit    string   `json:"amount_unit"`
	Currency      string   `json:"currency"`
	Livemode      string   `json:"livemode,omitempty"`
	Credit        []string `json:"credit"`
	Debit         []string `json:"debit,omitempty"`
	DebitAmount   string   `json:"debit_amount,omitempty"`
	Ignored       []string `json:"ignored,omitempty"`
}

// WithDefaults fills a Stripe format's unset choices.
func (f PayloadFormat) WithDefaults() PayloadFormat {
	if f.Format == FormatStripe {
		if f.CreditOn == "" {
			f.CreditOn = StripePaymentIntentSucceeded
		}
		if f.RefundOn == "" {
			f.RefundOn = StripeChargeRefunded
		}
	}
	if f.Mapping != nil && f.Mapping.DebitAmount == "" {
		m := *f.Mapping
		m.DebitAmount = DebitDelta
		f.Mapping = &m
	}
	return f
}

// Validate checks a format as ingest will use it; the env loader reports the same faults
// with the file and line.
func (f PayloadFormat) Validate() error {
	f = f.WithDefaults()
	switch f.Format {
	case FormatStripe:
		if f.Mapping != nil {
			return fmt.Errorf("format stripe takes no mapping")
		}
		if f.CreditOn != StripePaymentIntentSucceeded && f.CreditOn != StripeChargeSucceeded {
			return fmt.Errorf("credit_on %q: want %s or %s", f.CreditOn, StripePaymentIntentSucceeded, StripeChargeSucceeded)
		}
		if f.RefundOn != StripeChargeRefunded && f.RefundOn != StripeRefundCreated {
			return fmt.Errorf("refund_on %q: want %s or %s", f.RefundOn, StripeChargeRefunded, StripeRefundCreated)
		}
		return nil
	case FormatStandardWebhooks:
		if f.CreditOn != "" || f.RefundOn != "" {
			return fmt.Errorf("credit_on and refund_on are Stripe's; a standard-webhooks format lists types in its mapping")
		}
		if f.Mapping == nil {
			return fmt.Errorf("format standard-webhooks needs a mapping")
		}
		return f.Mapping.Validate()
	default:
		return fmt.Errorf("format %q: want %s or %s", f.Format, FormatStripe, FormatStandardWebhooks)
	}
}

// Validate checks the pointers, the unit and that every event type has one meaning.
func (m Mapping) Validate() error {
	for _, p := range []struct {
		name, ptr string
		required  bool
	}{{"transaction_id", m.TransactionID, true}, {"amount", m.Amount, true}, {"currency", m.Currency, true}, {"livemode", m.Livemode, false}} {
		if p.required && p.ptr == "" {
			return fmt.Errorf("mapping.%s: a JSON pointer is required", p.name)
		}
		if err := CheckJSONPointer(p.ptr); err != nil {
			return fmt.Errorf("mapping.%s: %w", p.name, err)
		}
	}
	if m.AmountUnit != UnitMinor && m.AmountUnit != UnitDecimal {
		return fmt.Errorf("mapping.amount_unit %q: want %s or %s", m.AmountUnit, UnitMinor, UnitDecimal)
	}
	if m.DebitAmount != "" && m.DebitAmount != DebitDelta && m.DebitAmount != DebitCumulative {
		return fmt.Errorf("mapping.debit_amount %q: want %s or %s", m.DebitAmount, DebitDelta, DebitCumulative)
	}
	if len(m.Credit) == 0 {
		return fmt.Errorf("mapping.credit: at least one event type credits")
	}
	if t, a, b := m.Overlap(); t != "" {
		return fmt.Errorf("mapping: event type %q is in both %s and %s", t, a, b)
	}
	return nil
}

// Overlap returns an event type listed twice (in one list or two) and the lists naming it,
// or "".
func (m Mapping) Overlap() (eventType, first, second string) {
	seen := map[string]string{}
	for _, l := range []struct {
		name  string
		types []string
	}{{"credit", m.Credit}, {"debit", m.Debit}, {"ignored", m.Ignored}} {
		for _, t := range l.types {
			if prev, ok := seen[t]; ok {
				return t, prev, l.name
			}
			seen[t] = l.name
		}
	}
	return "", "", ""
}

// CheckJSONPointer checks RFC 6901 syntax: "" (the whole document) or "/"-separated
// tokens in which "~" is only followed by 0 or 1.
func CheckJSONPointer(p string) error {
	if p == "" {
		return nil
	}
	if p[0] != '/' {
		return fmt.Errorf("JSON pointer %q must start with /", p)
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 == len(p) || (p[i+1] != '0' && p[i+1] != '1')) {
			return fmt.Errorf("JSON pointer %q: ~ must be followed by 0 or 1", p)
		}
	}
	return nil
}

// FormatsSpec encodes the providers' formats for EnvPayloadFormats: a JSON object sorted
// by provider name, without FormatPayhook entries ("{}" when there are none).
func FormatsSpec(formats map[string]PayloadFormat) string {
	events := map[string]PayloadFormat{}
	for n, f := range formats {
		if f.Format != "" && f.Format != FormatPayhook {
			events[n] = f
		}
	}
	b, err := json.Marshal(events) // maps marshal with sorted keys
	if err != nil {
		panic(fmt.Sprintf("contract: encode payload formats: %v", err)) // plain structs: cannot fail
	}
	return string(b)
}

// ParseFormatsSpec reads EnvPayloadFormats strictly and validates every entry.
func ParseFormatsSpec(spec string) (map[string]PayloadFormat, error) {
	out := map[string]PayloadFormat{}
	if strings.TrimSpace(spec) == "" {
		return out, nil
	}
	dec := json.NewDecoder(strings.NewReader(spec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvPayloadFormats, err)
	}
	for name, f := range out {
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("%s: provider %q: %w", EnvPayloadFormats, name, err)
		}
		out[name] = f.WithDefaults()
	}
	return out, nil
}
