package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/payload"
	"github.com/payhook/payhook/services/internal/payload/sample"
	"github.com/payhook/payhook/services/internal/secrets"
	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

// eventFixture serves the providers of envs/local.yaml that post events, with the
// formats and mapping that file gives them.
func eventFixture(t *testing.T) (fixture, *bytes.Buffer) {
	t.Helper()
	f := newFixture(t)
	local, err := envs.LoadFile("../../envs/local.yaml")
	require.NoError(t, err)
	f.h.Providers["stripe-events"] = signature.Stripe
	f.h.Providers["acme-events"] = signature.StandardWebhooks
	f.h.Decoders, err = Config{PayloadFormats: local.PayloadFormatsSpec()}.Decoders(f.h.Providers)
	require.NoError(t, err)
	require.Contains(t, f.h.Decoders, "stripe-events")
	require.Contains(t, f.h.Decoders, "acme-events")
	secretJSON, _ := json.Marshal(map[string][]string{"acme": {stdSecret}, "stripe": {stripeSecret},
		"stripe-events": {stripeSecret}, "acme-events": {stdSecret}})
	f.h.Secrets = &secrets.Cache{Client: env.SM, SecretID: env.PutSecret(t, string(secretJSON))}
	var metrics bytes.Buffer
	f.h.Metrics = telemetry.NewMetrics(&metrics, "payhook", nil)
	return f, &metrics
}

// stripeRequest is a delivery to POST /webhooks/stripe-events, signed by stripe-go.
func stripeRequest(body []byte) events.APIGatewayProxyRequest {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: now})
	return providerRequest("stripe-events", map[string]string{"Content-Type": "application/json; charset=utf-8",
		"Stripe-Signature": signed.Header}, body)
}

// envelopeRequest is a delivery to POST /webhooks/acme-events, signed by the Standard
// Webhooks library.
func envelopeRequest(t *testing.T, msgID string, body []byte) events.APIGatewayProxyRequest {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(stdSecret)
	require.NoError(t, err)
	sig, err := wh.Sign(msgID, now, body)
	require.NoError(t, err)
	return providerRequest("acme-events", map[string]string{"Content-Type": "application/json",
		standardwebhooks.HeaderWebhookID: msgID, standardwebhooks.HeaderWebhookTimestamp: strconv.FormatInt(now.Unix(), 10),
		standardwebhooks.HeaderWebhookSignature: sig}, body)
}

func providerRequest(provider string, headers map[string]string, body []byte) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource: "/webhooks/" + provider, Path: "/webhooks/" + provider, HTTPMethod: "POST",
		Headers: headers, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-" + provider},
	}
}

type eventAnswer struct {
	Status, EventID, EventType, TransactionID, Error, Field, Message string
}

func callEvent(t *testing.T, h *Handler, req events.APIGatewayProxyRequest) (int, eventAnswer) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	require.NoError(t, err)
	var a struct {
		Status        string `json:"status"`
		EventID       string `json:"event_id"`
		EventType     string `json:"event_type"`
		TransactionID string `json:"transaction_id"`
		Error         string `json:"error"`
		Field         string `json:"field"`
		Message       string `json:"message"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &a), resp.Body)
	return resp.StatusCode, eventAnswer(a)
}

func usd(t *testing.T, s string) money.Amount {
	t.Helper()
	cur, _ := money.LookupCurrency("USD")
	a, err := money.ParseAmount(s, cur)
	require.NoError(t, err)
	return a
}

// accountQueue does what accounting does with every message on the queue.
func accountQueue(t *testing.T, f fixture) int {
	t.Helper()
	n := 0
	for {
		msgs := env.Receive(t, f.queues.URL, 10, time.Second)
		if len(msgs) == 0 {
			return n
		}
		for _, m := range msgs {
			msg, err := notification.ParseMessage(*m.Body)
			require.NoError(t, err)
			_, err = f.store.Account(context.Background(), msg)
			require.NoError(t, err)
			n++
		}
	}
}

func TestStripeStreamNetsExactly(t *testing.T) {
	f, _ := eventFixture(t)
	payment, err := sample.PaymentIntentSucceeded("evt_pay", "pi_1", usd(t, "20.00"), false)
	require.NoError(t, err)
	refund1, err := sample.ChargeRefunded("evt_ref1", "ch_1", "pi_1", usd(t, "20.00"), usd(t, "5.00"), false)
	require.NoError(t, err)
	refund2, err := sample.ChargeRefunded("evt_ref2", "ch_1", "pi_1", usd(t, "20.00"), usd(t, "12.50"), false)
	require.NoError(t, err)
	other, err := sample.CustomerCreated("evt_cus", false)
	require.NoError(t, err)
	// Stripe redelivers an event with pending_webhooks changed.
	redelivered := bytes.Replace(refund1, []byte(`"pending_webhooks":1`), []byte(`"pending_webhooks":0`), 1)
	require.NotEqual(t, refund1, redelivered)

	want := []struct {
		body   []byte
		status string
	}{{payment, "accepted"}, {refund1, "accepted"}, {other, "ignored"}, {payment, "duplicate"},
		{refund2, "accepted"}, {redelivered, "duplicate"}, {other, "ignored"}}
	for i, w := range want {
		code, a := callEvent(t, f.h, stripeRequest(w.body))
		require.Equal(t, http.StatusOK, code, "%d: %+v", i, a)
		assert.Equal(t, w.status, a.Status, "delivery %d", i)
	}
	accountQueue(t, f)

	ctx := context.Background()
	totals, err := f.store.DailyTotals(ctx, "stripe-events", now.Format(store.DayLayout))
	require.NoError(t, err)
	got := totals["USD"]
	assert.Equal(t, int64(2000), got.TotalMinor)
	assert.Equal(t, int64(1250), got.DebitMinor)
	assert.Equal(t, int64(750), got.NetMinor)
	ledger, err := f.store.GetLedger(ctx, "stripe-events", "pi_1")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"evt_pay", "evt_ref1", "evt_ref2"}, ledger.Events)
	ignored, err := f.store.Get(ctx, "stripe-events", "evt_cus")
	require.NoError(t, err)
	assert.Equal(t, store.StatusIgnored, ignored.Status)
	assert.Equal(t, "customer.created", ignored.EventType)
}

func TestTheSameStripeEventTenTimesConcurrentlyCountsOnce(t *testing.T) {
	f, _ := eventFixture(t)
	body, err := sample.PaymentIntentSucceeded("evt_storm", "pi_storm", usd(t, "99.99"), false)
	require.NoError(t, err)
	var wg sync.WaitGroup
	statuses := make([]string, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, a := callEvent(t, f.h, stripeRequest(body))
			assert.Equal(t, http.StatusOK, code)
			statuses[i] = a.Status
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, strings.Count(strings.Join(statuses, ","), "accepted"), "%v", statuses)
	accountQueue(t, f)
	totals, err := f.store.DailyTotals(context.Background(), "stripe-events", now.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(9999), totals["USD"].TotalMinor)
	assert.Equal(t, int64(1), totals["USD"].Count)
}

func TestEventRefusals(t *testing.T) {
	f, metrics := eventFixture(t)
	payment, err := sample.PaymentIntentSucceeded("evt_1", "pi_1", usd(t, "1.00"), false)
	require.NoError(t, err)
	code, a := callEvent(t, f.h, stripeRequest(payment))
	require.Equal(t, http.StatusOK, code, a.Message)

	// The same event id with another event.
	changed, err := sample.PaymentIntentSucceeded("evt_1", "pi_1", usd(t, "1.01"), false)
	require.NoError(t, err)
	code, a = callEvent(t, f.h, stripeRequest(changed))
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, "conflict", a.Error)

	// A live event in an environment that is not live, and the reverse.
	live, err := sample.PaymentIntentSucceeded("evt_live", "pi_live", usd(t, "1.00"), true)
	require.NoError(t, err)
	code, a = callEvent(t, f.h, stripeRequest(live))
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Equal(t, "livemode_mismatch", a.Error)
	f.h.Live = true
	code, _ = callEvent(t, f.h, stripeRequest(payment))
	assert.Equal(t, http.StatusUnprocessableEntity, code, "a test-mode event in a live environment")
	f.h.Live = false
	assert.Equal(t, 2, strings.Count(metrics.String(), `"LivemodeMismatch":1`), "each refusal is counted")
	rec, err := f.store.Get(context.Background(), "stripe-events", "evt_live")
	require.NoError(t, err)
	assert.Nil(t, rec, "a refused event is not recorded")

	// Stripe amounts payhook cannot state exactly: 400 naming the field, nothing stored.
	isk := []byte(`{"id":"evt_isk","object":"event","type":"payment_intent.succeeded","livemode":false,"data":{"object":{"id":"pi_isk","object":"payment_intent","amount_received":4010,"currency":"isk"}}}`)
	code, a = callEvent(t, f.h, stripeRequest(isk))
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "data.object.amount_received", a.Field)
	assert.Contains(t, a.Message, "multiples of 100")

	// A bad signature.
	req := stripeRequest(payment)
	req.Body = strings.Replace(req.Body, "100", "900", 1)
	code, _ = callEvent(t, f.h, req)
	assert.Equal(t, http.StatusUnauthorized, code)

	// Routes: an unknown provider, an unsigned one, and an events provider on the API-key route.
	code, a = callEvent(t, f.h, providerRequest("nobody", map[string]string{"Content-Type": "application/json"}, payment))
	assert.Equal(t, http.StatusNotFound, code)
	code, a = callEvent(t, f.h, providerRequest("legacy", map[string]string{"Content-Type": "application/json"}, []byte(flat("tx", "1", "USD", "legacy"))))
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, "signature_required", a.Error)
	code, a = callEvent(t, f.h, request(t, "stripe", flat("tx_e", "1", "USD", "stripe-events")))
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, a.Message, "post them to this URL followed by /stripe-events")
}

func TestFlatProvidersMayUseTheirRoute(t *testing.T) {
	f, _ := eventFixture(t)
	flatReq := request(t, "acme", flat("tx_route", `"2.00"`, "USD", "acme"))
	routed := providerRequest("acme", flatReq.Headers, []byte(flatReq.Body))
	code, a := callEvent(t, f.h, routed)
	require.Equal(t, http.StatusOK, code, a.Message)
	assert.Equal(t, "accepted", a.Status)
	other := providerRequest("stripe", flatReq.Headers, []byte(flatReq.Body))
	other.Headers = map[string]string{"Content-Type": "application/json", "Stripe-Signature": signature.SignStripe(stripeSecret, now, []byte(flatReq.Body))}
	code, a = callEvent(t, f.h, other)
	assert.Equal(t, http.StatusBadRequest, code, "the body names acme, the URL stripe")
	assert.Equal(t, "provider", a.Field)

	// Without an API key, nothing of an unsigned body is read: 401, not a 400 about its JSON.
	unsigned := providerRequest("acme", map[string]string{"Content-Type": "application/json"}, []byte(`{"not":"a notification"`))
	code, a = callEvent(t, f.h, unsigned)
	assert.Equal(t, http.StatusUnauthorized, code, "%+v", a)
}

func TestStandardWebhooksEnvelopeWithTheEnvFilesMapping(t *testing.T) {
	f, metrics := eventFixture(t)
	data := func(amount int, live bool) map[string]any {
		return map[string]any{"payment_id": "pay_9", "amount": amount, "currency": "eur", "livemode": live}
	}
	for _, d := range []struct {
		id, typ string
		data    map[string]any
		status  string
	}{
		{"msg_created", "payment.created", map[string]any{"livemode": false}, "ignored"},
		{"msg_pay", "payment.succeeded", data(5000, false), "accepted"},
		{"msg_ref", "payment.refunded", data(1500, false), "accepted"},
		{"msg_ref", "payment.refunded", data(1500, false), "duplicate"},
		{"msg_inv", "invoice.paid", map[string]any{"livemode": false}, "ignored"},
	} {
		code, a := callEvent(t, f.h, envelopeRequest(t, d.id, sample.Envelope(d.typ, now, d.data)))
		require.Equal(t, http.StatusOK, code, "%s: %+v", d.id, a)
		assert.Equal(t, d.status, a.Status, d.id)
	}
	assert.Contains(t, metrics.String(), "UnmappedEventType", "a type the mapping does not list is counted")
	code, a := callEvent(t, f.h, envelopeRequest(t, "msg_ref", sample.Envelope("payment.refunded", now, data(1600, false))))
	assert.Equal(t, http.StatusConflict, code, "%+v", a)
	accountQueue(t, f)
	totals, err := f.store.DailyTotals(context.Background(), "acme-events", now.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(5000), totals["EUR"].TotalMinor)
	assert.Equal(t, int64(1500), totals["EUR"].DebitMinor)
	assert.Equal(t, int64(3500), totals["EUR"].NetMinor)
}

func TestColdStartChecksEachFormatAgainstItsScheme(t *testing.T) {
	schemes := map[string]signature.Scheme{"s": signature.Stripe, "w": signature.StandardWebhooks, "n": signature.None}
	mapping := `"mapping":{"transaction_id":"/d/id","amount":"/d/a","amount_unit":"minor","currency":"/d/c","credit":["paid"]}`
	for spec, wantErr := range map[string]string{
		`{"s":{"format":"stripe"},"w":{"format":"standard-webhooks",` + mapping + `}}`: "",
		`{"w":{"format":"stripe"}}`:                               "needs scheme stripe",
		`{"s":{"format":"standard-webhooks",` + mapping + `}}`:    "needs scheme standard-webhooks",
		`{"n":{"format":"stripe"}}`:                               "needs scheme stripe",
		`{"x":{"format":"stripe"}}`:                               "not in PROVIDERS",
		`{"s":{"format":"stripe","credit_on":"charge.refunded"}}`: "credit_on",
		`{"s":{"format":"stripe","extra":1}}`:                     "unknown field",
	} {
		d, err := Config{PayloadFormats: spec}.Decoders(schemes)
		if wantErr == "" {
			require.NoError(t, err, spec)
			assert.Len(t, d, 2)
			continue
		}
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), wantErr, spec)
	}
}

func TestAnIgnoredEventThatNowMovesMoneyIsCounted(t *testing.T) {
	f, _ := eventFixture(t)
	// refund.created is ignored with the shipped choice (charge.refunded).
	refund, err := sample.RefundCreated("evt_rc", "re_1", "ch_1", "pi_rc", usd(t, "2.00"), false)
	require.NoError(t, err)
	code, a := callEvent(t, f.h, stripeRequest(refund))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ignored", a.Status)

	// The operator switches to refund.created and Stripe resends the event: it is counted,
	// not refused as a conflict.
	f.h.Decoders["stripe-events"], err = payload.NewDecoder(contract.PayloadFormat{Format: contract.FormatStripe, RefundOn: contract.StripeRefundCreated})
	require.NoError(t, err)
	code, a = callEvent(t, f.h, stripeRequest(refund))
	require.Equal(t, http.StatusOK, code, "%+v", a)
	assert.Equal(t, "accepted", a.Status)
	accountQueue(t, f)
	totals, err := f.store.DailyTotals(context.Background(), "stripe-events", now.Format(store.DayLayout))
	require.NoError(t, err)
	assert.Equal(t, int64(200), totals["USD"].DebitMinor)

	// Switched back, a redelivery of the counted event is a duplicate's 200, not a 409.
	f.h.Decoders["stripe-events"], err = payload.NewDecoder(contract.PayloadFormat{Format: contract.FormatStripe})
	require.NoError(t, err)
	code, a = callEvent(t, f.h, stripeRequest(refund))
	assert.Equal(t, http.StatusOK, code, "%+v", a)
	assert.Len(t, env.Receive(t, f.queues.URL, 5, time.Second), 0, "nothing sent again")
}
