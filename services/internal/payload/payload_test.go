package payload

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/payload/sample"
)

func amount(t testing.TB, text, code string) money.Amount {
	t.Helper()
	cur, ok := money.LookupCurrency(code)
	require.True(t, ok, code)
	a, err := money.ParseAmount(text, cur)
	require.NoError(t, err)
	return a
}

func decoder(t testing.TB, f contract.PayloadFormat) Decoder {
	t.Helper()
	d, err := NewDecoder(f)
	require.NoError(t, err)
	return d
}

func stripeDefault(t testing.TB) Decoder {
	return decoder(t, contract.PayloadFormat{Format: contract.FormatStripe})
}

func TestStripePaymentIntentCredits(t *testing.T) {
	body, err := sample.PaymentIntentSucceeded("evt_1", "pi_1", amount(t, "20.00", "USD"), true)
	require.NoError(t, err)
	e, ferr := stripeDefault(t)(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, "evt_1", e.ID)
	assert.Equal(t, "payment_intent.succeeded", e.Type)
	assert.Equal(t, Credit, e.Kind)
	assert.Equal(t, "pi_1", e.TransactionID)
	assert.Equal(t, int64(2000), e.Amount.Minor)
	assert.Equal(t, "USD", e.Amount.Currency.Code)
	require.NotNil(t, e.Livemode)
	assert.True(t, *e.Livemode)
	assert.False(t, e.Cumulative)
}

func TestStripeRefundsDebitThePaymentIntent(t *testing.T) {
	usd := func(s string) money.Amount { return amount(t, s, "USD") }
	body, err := sample.ChargeRefunded("evt_2", "ch_1", "pi_1", usd("20.00"), usd("5.00"), false)
	require.NoError(t, err)
	e, ferr := stripeDefault(t)(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Debit, e.Kind)
	assert.Equal(t, "pi_1", e.TransactionID, "the refund debits the payment the PaymentIntent credited")
	assert.Equal(t, int64(500), e.Amount.Minor)
	assert.True(t, e.Cumulative, "charge.refunded carries everything refunded so far")

	// A legacy charge without a PaymentIntent was never credited (only PaymentIntents
	// credit here), so its refund is not debited either.
	body, err = sample.ChargeRefunded("evt_3", "ch_2", "", usd("20.00"), usd("1.00"), false)
	require.NoError(t, err)
	e, ferr = stripeDefault(t)(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Ignored, e.Kind)
	assert.Equal(t, "no PaymentIntent", e.Reason)

	// refund.created is ignored unless chosen; when chosen it debits one refund's amount.
	body, err = sample.RefundCreated("evt_4", "re_1", "ch_1", "pi_1", usd("2.50"), false)
	require.NoError(t, err)
	e, ferr = stripeDefault(t)(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Ignored, e.Kind)
	d := decoder(t, contract.PayloadFormat{Format: contract.FormatStripe, RefundOn: contract.StripeRefundCreated})
	e, ferr = d(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Debit, e.Kind)
	assert.Equal(t, "pi_1", e.TransactionID)
	assert.Equal(t, int64(250), e.Amount.Minor)
	assert.False(t, e.Cumulative)
}

// chargeRefunded is a charge.refunded event rendered in apiVersion.
func chargeRefunded(t *testing.T, apiVersion string, captured bool, amount, amountCaptured, amountRefunded int) []byte {
	t.Helper()
	return []byte(`{"id":"evt_cr","object":"event","type":"charge.refunded","livemode":false,"api_version":"` + apiVersion + `",` +
		`"data":{"object":{"id":"ch_1","object":"charge","payment_intent":"pi_1","currency":"usd","captured":` + strconv.FormatBool(captured) +
		`,"amount":` + strconv.Itoa(amount) + `,"amount_captured":` + strconv.Itoa(amountCaptured) + `,"amount_refunded":` + strconv.Itoa(amountRefunded) + `}}}`)
}

func TestStripeRefundsOfCapturedMoneyOnly(t *testing.T) {
	d := stripeDefault(t)
	for _, c := range []struct {
		name                    string
		version                 string
		captured                bool
		amount, captd, refunded int
		kind                    Kind
		debit                   int64
	}{
		// Before 2025-03-31.basil a released authorization sent charge.refunded for all of it.
		{"released authorization", "2024-06-20", false, 1000, 0, 1000, Ignored, 0},
		// ... and a partial capture of 600 of 1000 refunded the other 400.
		{"partial capture's remainder", "2024-06-20", true, 1000, 600, 400, Ignored, 0},
		{"a refund after a partial capture", "2024-06-20", true, 1000, 600, 650, Debit, 250},
		// Since basil amount_refunded holds refunds of captured money only.
		{"basil: a refund after a partial capture", "2025-03-31.basil", true, 1000, 600, 250, Debit, 250},
		{"clover", "2025-09-30.clover", true, 1000, 1000, 1000, Debit, 1000},
	} {
		e, ferr := d(chargeRefunded(t, c.version, c.captured, c.amount, c.captd, c.refunded), nil)
		require.Nil(t, ferr, c.name)
		assert.Equal(t, c.kind, e.Kind, c.name)
		assert.Equal(t, c.debit, e.Amount.Minor, c.name)
	}
}

func TestStripeChargeMode(t *testing.T) {
	d := decoder(t, contract.PayloadFormat{Format: contract.FormatStripe, CreditOn: contract.StripeChargeSucceeded})
	usd := amount(t, "12.34", "USD")
	c, err := sample.Charge("ch_9", "pi_9", usd, money.Amount{}, false)
	require.NoError(t, err)
	body, err := sample.StripeEvent("evt_c1", "charge.succeeded", false, c)
	require.NoError(t, err)
	e, ferr := d(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Credit, e.Kind)
	assert.Equal(t, "ch_9", e.TransactionID)
	assert.Equal(t, int64(1234), e.Amount.Minor)

	// payment_intent.succeeded is then ignored, so one payment is never credited twice.
	body, err = sample.PaymentIntentSucceeded("evt_c2", "pi_9", usd, false)
	require.NoError(t, err)
	e, ferr = d(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Ignored, e.Kind)

	// An authorized, uncaptured charge moved no money yet.
	c.Captured, c.AmountCaptured = false, 0
	body, err = sample.StripeEvent("evt_c3", "charge.succeeded", false, c)
	require.NoError(t, err)
	e, ferr = d(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Ignored, e.Kind)
	assert.Equal(t, "uncaptured", e.Reason)

	// Refunds debit the charge, not its PaymentIntent.
	body, err = sample.ChargeRefunded("evt_c4", "ch_9", "pi_9", usd, amount(t, "1.00", "USD"), false)
	require.NoError(t, err)
	e, ferr = d(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, "ch_9", e.TransactionID)
}

func TestStripeOtherEventsAreIgnored(t *testing.T) {
	body, err := sample.CustomerCreated("evt_x", false)
	require.NoError(t, err)
	e, ferr := stripeDefault(t)(body, nil)
	require.Nil(t, ferr)
	assert.Equal(t, Ignored, e.Kind)
	assert.Equal(t, "customer.created", e.Type)
	assert.False(t, e.Unmapped)
}

func TestStripeCurrencies(t *testing.T) {
	for _, c := range []struct {
		stripe int64
		code   string
		minor  int64
	}{{500, "jpy", 500}, {5, "mga", 500}, {500, "isk", 5}, {5120, "kwd", 5120}, {10000, "ugx", 10000}, {123456, "huf", 123456}, {100, "twd", 100}} {
		body := []byte(`{"id":"evt_c","object":"event","type":"payment_intent.succeeded","livemode":false,` +
			`"data":{"object":{"id":"pi_c","object":"payment_intent","amount_received":` + itoa(c.stripe) + `,"currency":"` + c.code + `"}}}`)
		e, ferr := stripeDefault(t)(body, nil)
		require.Nil(t, ferr, "%d %s: %v", c.stripe, c.code, ferr)
		assert.Equal(t, c.minor, e.Amount.Minor, "%d %s", c.stripe, c.code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestStripeRefusals(t *testing.T) {
	pi := func(amount, currency string) string {
		return `{"id":"evt_r","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_r","object":"payment_intent","amount_received":` + amount + `,"currency":` + currency + `}}}`
	}
	for _, c := range []struct {
		name, body, code, field string
	}{
		{"fractional ISK", pi("4010", `"isk"`), notification.CodeInvalidAmount, "data.object.amount_received"},
		{"three-decimal last digit", pi("5124", `"kwd"`), notification.CodeInvalidAmount, "data.object.amount_received"},
		{"undocumented currency", pi("1000", `"iqd"`), notification.CodeUnknownCurrency, "data.object.currency"},
		{"unknown currency", pi("1000", `"zzz"`), notification.CodeUnknownCurrency, "data.object.currency"},
		{"fractional amount", pi("12.5", `"usd"`), notification.CodeInvalidType, "data.object.amount_received"},
		{"zero", pi("0", `"usd"`), notification.CodeInvalidAmount, "data.object.amount_received"},
		{"negative", pi("-5", `"usd"`), notification.CodeInvalidType, "data.object.amount_received"},
		{"no currency", pi("100", `""`), notification.CodeMissingField, "data.object.currency"},
		{"not an event", `{"id":"evt_1","object":"charge"}`, notification.CodeInvalidValue, "object"},
		{"payhook's flat payload", `{"transaction_id":"t","amount":"1.00","currency":"USD","provider":"stripe"}`, notification.CodeInvalidValue, "object"},
		{"no id", `{"object":"event","type":"x","livemode":false}`, notification.CodeMissingField, "id"},
		{"bad id", `{"id":"evt 1","object":"event","type":"x","livemode":false}`, notification.CodeInvalidValue, "id"},
		{"no livemode", `{"id":"evt_1","object":"event","type":"x"}`, notification.CodeMissingField, "livemode"},
		{"no object", `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{}}`, notification.CodeMissingField, "data.object"},
		{"wrong object", `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"ch_1","object":"charge"}}}`, notification.CodeInvalidValue, "data.object.object"},
		{"not JSON", `{"id":`, notification.CodeInvalidJSON, ""},
		{"array", `[1]`, notification.CodeInvalidJSON, ""},
	} {
		_, ferr := stripeDefault(t)([]byte(c.body), nil)
		if assert.NotNil(t, ferr, c.name) {
			assert.Equal(t, c.code, ferr.Code, "%s: %v", c.name, ferr)
			assert.Equal(t, c.field, ferr.Field, "%s: %v", c.name, ferr)
		}
	}
}

// acmeMapping is the mapping of envs/testdata's Standard Webhooks provider.
func acmeMapping() contract.PayloadFormat {
	return contract.PayloadFormat{Format: contract.FormatStandardWebhooks, Mapping: &contract.Mapping{
		TransactionID: "/data/payment_id", Amount: "/data/amount", AmountUnit: contract.UnitDecimal,
		Currency: "/data/currency", Livemode: "/data/live",
		Credit: []string{"payment.succeeded"}, Debit: []string{"payment.refunded"}, Ignored: []string{"payment.created"},
	}}
}

func TestStandardWebhooksMapping(t *testing.T) {
	d := decoder(t, acmeMapping())
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	at := time.Unix(1_700_000_000, 0)
	e, ferr := d(sample.Envelope("payment.succeeded", at, map[string]any{"payment_id": "pay_1", "amount": "12.30", "currency": "eur", "live": true}), h)
	require.Nil(t, ferr)
	assert.Equal(t, Event{ID: "msg_1", Type: "payment.succeeded", Kind: Credit, TransactionID: "pay_1",
		Amount: amount(t, "12.30", "EUR"), Livemode: e.Livemode}, e)
	assert.True(t, *e.Livemode)

	e, ferr = d(sample.Envelope("payment.refunded", at, map[string]any{"payment_id": "pay_1", "amount": 2.5, "currency": "EUR", "live": true}), h)
	require.Nil(t, ferr)
	assert.Equal(t, Debit, e.Kind)
	assert.Equal(t, int64(250), e.Amount.Minor)

	e, ferr = d(sample.Envelope("payment.created", at, map[string]any{"live": true}), h)
	require.Nil(t, ferr)
	assert.Equal(t, Ignored, e.Kind)
	assert.False(t, e.Unmapped)
	e, ferr = d(sample.Envelope("invoice.paid", at, map[string]any{"live": true}), h)
	require.Nil(t, ferr)
	assert.True(t, e.Unmapped, "a type in no list is ignored and flagged")

	for _, c := range []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"decimal places", map[string]any{"payment_id": "p", "amount": "1.234", "currency": "EUR", "live": true}, "/data/amount"},
		{"no amount", map[string]any{"payment_id": "p", "currency": "EUR", "live": true}, "/data/amount"},
		{"bad currency", map[string]any{"payment_id": "p", "amount": "1", "currency": "EURO", "live": true}, "/data/currency"},
		{"no livemode", map[string]any{"payment_id": "p", "amount": "1", "currency": "EUR"}, "/data/live"},
		{"bad id", map[string]any{"payment_id": "a b", "amount": "1", "currency": "EUR", "live": true}, "/data/payment_id"},
	} {
		_, ferr := d(sample.Envelope("payment.succeeded", at, c.data), h)
		if assert.NotNil(t, ferr, c.name) {
			assert.Equal(t, c.field, ferr.Field, "%s: %v", c.name, ferr)
		}
	}
	_, ferr = d(sample.Envelope("payment.succeeded", at, nil), http.Header{})
	require.NotNil(t, ferr)
	assert.Equal(t, "webhook-id", ferr.Field)
}

func TestMinorUnitsAndCumulativeDebits(t *testing.T) {
	f := acmeMapping()
	f.Mapping.AmountUnit, f.Mapping.DebitAmount, f.Mapping.Livemode = contract.UnitMinor, contract.DebitCumulative, ""
	d := decoder(t, f)
	h := http.Header{"Webhook-Id": {"msg_2"}}
	e, ferr := d(sample.Envelope("payment.refunded", time.Now(), map[string]any{"payment_id": 42, "amount": 1500, "currency": "JPY"}), h)
	require.Nil(t, ferr)
	assert.Equal(t, "42", e.TransactionID)
	assert.Equal(t, int64(1500), e.Amount.Minor)
	assert.True(t, e.Cumulative)
	assert.Nil(t, e.Livemode)
	_, ferr = d(sample.Envelope("payment.refunded", time.Now(), map[string]any{"payment_id": "p", "amount": "15.5", "currency": "JPY"}), h)
	require.NotNil(t, ferr, "a minor-unit amount is an integer")
}

func TestHashIgnoresWhatPayhookDoesNotRead(t *testing.T) {
	a := []byte(`{"id":"evt_h","object":"event","type":"payment_intent.succeeded","livemode":false,"pending_webhooks":3,"data":{"object":{"id":"pi_h","object":"payment_intent","amount_received":100,"currency":"usd"}}}`)
	b := []byte(`{"pending_webhooks":1,"id":"evt_h","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_h","object":"payment_intent","amount_received":100,"currency":"usd","status":"succeeded"}}}`)
	c := []byte(`{"id":"evt_h","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_h","object":"payment_intent","amount_received":101,"currency":"usd"}}}`)
	ea, _ := stripeDefault(t)(a, nil)
	eb, _ := stripeDefault(t)(b, nil)
	ec, _ := stripeDefault(t)(c, nil)
	assert.Equal(t, ea.Hash("stripe"), eb.Hash("stripe"), "a redelivery whose pending_webhooks changed is the same event")
	assert.NotEqual(t, ea.Hash("stripe"), ec.Hash("stripe"))
	assert.NotEqual(t, ea.Hash("stripe"), ea.Hash("other"))
}

func TestFormatValidation(t *testing.T) {
	for _, f := range []contract.PayloadFormat{
		{Format: "paypal"},
		{Format: contract.FormatStripe, CreditOn: "charge.refunded"},
		{Format: contract.FormatStripe, RefundOn: "refund.updated"},
		{Format: contract.FormatStandardWebhooks},
		{Format: contract.FormatStandardWebhooks, Mapping: &contract.Mapping{TransactionID: "data/id", Amount: "/a", Currency: "/c", AmountUnit: "minor", Credit: []string{"x"}}},
		{Format: contract.FormatStandardWebhooks, Mapping: &contract.Mapping{TransactionID: "/id", Amount: "/a", Currency: "/c", AmountUnit: "cents", Credit: []string{"x"}}},
		{Format: contract.FormatStandardWebhooks, Mapping: &contract.Mapping{TransactionID: "/id", Amount: "/a", Currency: "/c", AmountUnit: "minor", Credit: []string{"x"}, Debit: []string{"x"}}},
		{Format: contract.FormatStandardWebhooks, Mapping: &contract.Mapping{TransactionID: "/id", Amount: "/a~2", Currency: "/c", AmountUnit: "minor", Credit: []string{"x"}}},
	} {
		_, err := NewDecoder(f)
		assert.Error(t, err, "%+v", f)
	}
}

func FuzzStripe(f *testing.F) {
	for _, s := range []string{
		`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_1","object":"payment_intent","amount_received":2000,"currency":"usd"}}}`,
		`{"id":"evt_2","object":"event","type":"charge.refunded","livemode":true,"data":{"object":{"id":"ch_1","object":"charge","amount_refunded":500,"currency":"isk","payment_intent":"pi_1"}}}`,
		`{"id":"evt_3","object":"event","type":"customer.created","livemode":false}`,
	} {
		f.Add([]byte(s))
	}
	d := stripeDefault(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecoded(t, d, body, nil)
	})
}

func FuzzStandardWebhooks(f *testing.F) {
	f.Add([]byte(`{"type":"payment.succeeded","data":{"payment_id":"p1","amount":"12.30","currency":"EUR","live":true}}`), "msg_1")
	f.Add([]byte(`{"type":"payment.refunded","data":{"payment_id":7,"amount":1,"currency":"jpy","live":false}}`), "msg_2")
	f.Add([]byte(`{"type":"other"}`), "m")
	d := decoder(f, acmeMapping())
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		checkDecoded(t, d, body, http.Header{"Webhook-Id": {id}})
	})
}

// checkDecoded asserts what holds for any input: an error names a stable code, and an
// event has a valid id and type, and when it moves money a valid transaction and a
// positive amount within bounds; decoding twice gives the same hash.
func checkDecoded(t *testing.T, d Decoder, body []byte, h http.Header) {
	e, ferr := d(body, h)
	if ferr != nil {
		require.NotEmpty(t, ferr.Code)
		return
	}
	require.True(t, notification.ValidID(e.ID), "id %q", e.ID)
	require.Nil(t, checkType(e.Type))
	switch e.Kind {
	case Credit, Debit:
		require.True(t, notification.ValidID(e.TransactionID), "transaction %q", e.TransactionID)
		require.True(t, e.Amount.Minor >= 1 && e.Amount.Minor <= money.MaxMinor, "amount %d", e.Amount.Minor)
		_, ok := money.LookupCurrency(e.Amount.Currency.Code)
		require.True(t, ok)
	case Ignored:
		require.Empty(t, e.TransactionID)
	default:
		t.Fatalf("kind %q", e.Kind)
	}
	again, _ := d(body, h)
	require.Equal(t, e.Hash("p"), again.Hash("p"))
}
