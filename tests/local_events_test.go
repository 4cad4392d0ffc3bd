package tests

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82"

	"github.com/payhook/payhook/internal/localrun"
)

// stripeEvent marshals a test-mode Stripe event with stripe-go's own types.
func stripeEvent(t *testing.T, id string, typ stripe.EventType, object any) []byte {
	return stripeEventIn(t, false, id, typ, object)
}

// stripeEventIn marshals a Stripe event of the given livemode.
func stripeEventIn(t *testing.T, live bool, id string, typ stripe.EventType, object any) []byte {
	t.Helper()
	raw, err := json.Marshal(object)
	require.NoError(t, err)
	b, err := json.Marshal(stripe.Event{ID: id, Object: "event", Type: typ, Livemode: live, APIVersion: stripe.APIVersion,
		Created: time.Now().Unix(), PendingWebhooks: 1, Data: &stripe.EventData{Raw: raw}})
	require.NoError(t, err)
	return b
}

func paymentIntentSucceeded(t *testing.T, id, pi string, amount int64, currency stripe.Currency) []byte {
	return stripeEvent(t, id, stripe.EventTypePaymentIntentSucceeded, &stripe.PaymentIntent{ID: pi, Object: "payment_intent",
		Amount: amount, AmountReceived: amount, Currency: currency, Status: stripe.PaymentIntentStatusSucceeded})
}

func chargeRefunded(t *testing.T, id, ch, pi string, amount, refunded int64, currency stripe.Currency) []byte {
	return stripeEvent(t, id, stripe.EventTypeChargeRefunded, &stripe.Charge{ID: ch, Object: "charge", Amount: amount,
		AmountCaptured: amount, AmountRefunded: refunded, Captured: true, Currency: currency,
		PaymentIntent: &stripe.PaymentIntent{ID: pi}, Status: stripe.ChargeStatusSucceeded})
}

// postEvent sends an event to the provider's own route, without the API key, signed with
// the provider's library; id is the Standard Webhooks message id.
func (s *sender) postEvent(p localrun.StateProvider, id string, body []byte) (int, map[string]any) {
	return s.send(s.state.Endpoint+"/"+p.Name, p, id, body)
}

// item reads one item of the table (strongly consistent).
func item(t *testing.T, l *localrun.Local, pk, sk string) map[string]ddbtypes.AttributeValue {
	out, err := l.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(l.State().Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
			"sk": &ddbtypes.AttributeValueMemberS{Value: sk},
		}})
	require.NoError(t, err)
	return out.Item
}

// dayTotals reads a provider's credit, debit and net for a currency today.
func dayTotals(t *testing.T, l *localrun.Local, provider, currency string) [3]int64 {
	got := item(t, l, "TOTAL#"+provider+"#"+time.Now().UTC().Format("2006-01-02"), "CUR#"+currency)
	var r [3]int64
	for i, k := range []string{"total_minor", "debit_minor", "net_minor"} {
		if v, ok := got[k].(*ddbtypes.AttributeValueMemberN); ok {
			r[i], _ = strconv.ParseInt(v.Value, 10, 64)
		}
	}
	return r
}

// ledgerEvents reads the event ids a payment's ledger lists.
func ledgerEvents(t *testing.T, l *localrun.Local, provider, payment string) []string {
	if ss, ok := item(t, l, "TXN#"+provider+"#"+payment, "LEDGER")["events"].(*ddbtypes.AttributeValueMemberSS); ok {
		return ss.Value
	}
	return nil
}

// TestLocalStripeEventStream: payments, partial refunds, an irrelevant event and
// redeliveries (one of them ten times at once) through the API produce exact net totals.
func TestLocalStripeEventStream(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	p := s.provider("stripe-events")
	run := runID()
	before := dayTotals(t, l, p.Name, "USD")
	pay := paymentIntentSucceeded(t, "evt_pay_"+run, "pi_"+run, 2000, stripe.CurrencyUSD)
	ref1 := chargeRefunded(t, "evt_ref1_"+run, "ch_"+run, "pi_"+run, 2000, 500, stripe.CurrencyUSD)
	ref2 := chargeRefunded(t, "evt_ref2_"+run, "ch_"+run, "pi_"+run, 2000, 1250, stripe.CurrencyUSD)
	other := stripeEvent(t, "evt_cus_"+run, stripe.EventTypeCustomerCreated, &stripe.Customer{ID: "cus_" + run, Object: "customer"})
	yen := paymentIntentSucceeded(t, "evt_jpy_"+run, "pi_jpy_"+run, 500, stripe.CurrencyJPY)

	var wg sync.WaitGroup
	statuses := make(chan any, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, ans := s.postEvent(p, "", pay)
			assert.Equal(t, 200, code, "%v", ans)
			statuses <- ans["status"]
		}()
	}
	wg.Wait()
	close(statuses)
	accepted := 0
	for st := range statuses {
		if st == "accepted" {
			accepted++
		}
	}
	assert.Equal(t, 1, accepted, "ten concurrent deliveries of one event: one accepted, nine duplicates")

	for i, d := range []struct {
		body   []byte
		status string
	}{{ref2, "accepted"}, {other, "ignored"}, {ref1, "accepted"}, {ref1, "duplicate"}, {yen, "accepted"}} {
		code, ans := s.postEvent(p, "", d.body)
		require.Equal(t, 200, code, "%d: %v", i, ans)
		assert.Equal(t, d.status, ans["status"], "delivery %d", i)
	}
	for _, id := range []string{"evt_pay_", "evt_ref1_", "evt_ref2_", "evt_jpy_"} {
		waitStatus(t, l, p.Name, id+run, "accounted", 30*time.Second)
	}
	assert.Equal(t, "ignored", str(record(t, l, p.Name, "evt_cus_"+run), "status"))
	after := dayTotals(t, l, p.Name, "USD")
	assert.Equal(t, [3]int64{2000, 1250, 750}, [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]},
		"credit 20.00, refunds 12.50 (the larger cumulative refund counted, the earlier one nothing more), net 7.50")
	assert.ElementsMatch(t, []string{"evt_pay_" + run, "evt_ref1_" + run, "evt_ref2_" + run}, ledgerEvents(t, l, p.Name, "pi_"+run))
	jpy := dayTotals(t, l, p.Name, "JPY")
	assert.GreaterOrEqual(t, jpy[0], int64(500), "JPY is zero-decimal in Stripe and ISO 4217 alike")

	// The same event id with another event, and a test-mode event is fine here (local is not live)
	// but a live one is refused.
	code, ans := s.postEvent(p, "", paymentIntentSucceeded(t, "evt_pay_"+run, "pi_"+run, 2001, stripe.CurrencyUSD))
	assert.Equal(t, 409, code, "%v", ans)
	live := stripeEventIn(t, true, "evt_live_"+run, stripe.EventTypePaymentIntentSucceeded, &stripe.PaymentIntent{
		ID: "pi_live_" + run, Object: "payment_intent", AmountReceived: 100, Currency: stripe.CurrencyUSD, Livemode: true})
	code, ans = s.postEvent(p, "", live)
	assert.Equal(t, 422, code, "%v", ans)
	assert.Equal(t, "livemode_mismatch", ans["error"])
}

// TestLocalStandardWebhooksEnvelopes: envelopes read through envs/local.yaml's mapping,
// signed by the Standard Webhooks library.
func TestLocalStandardWebhooksEnvelopes(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	p := s.provider("acme-events")
	run := runID()
	before := dayTotals(t, l, p.Name, "EUR")
	envelope := func(typ string, data map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"type": typ, "timestamp": time.Now().UTC().Format(time.RFC3339), "data": data})
		return b
	}
	data := func(amount int) map[string]any {
		return map[string]any{"payment_id": "pay_" + run, "amount": amount, "currency": "EUR", "livemode": false}
	}
	for i, d := range []struct {
		id, typ string
		data    map[string]any
		status  string
	}{
		{"msg_c_" + run, "payment.created", map[string]any{"livemode": false}, "ignored"},
		{"msg_p_" + run, "payment.succeeded", data(4200), "accepted"},
		{"msg_p_" + run, "payment.succeeded", data(4200), "duplicate"},
		{"msg_r_" + run, "payment.refunded", data(200), "accepted"},
	} {
		code, ans := s.postEvent(p, d.id, envelope(d.typ, d.data))
		require.Equal(t, 200, code, "%d: %v", i, ans)
		assert.Equal(t, d.status, ans["status"], "delivery %d", i)
	}
	waitStatus(t, l, p.Name, "msg_p_"+run, "accounted", 30*time.Second)
	waitStatus(t, l, p.Name, "msg_r_"+run, "accounted", 30*time.Second)
	after := dayTotals(t, l, p.Name, "EUR")
	assert.Equal(t, [3]int64{4200, 200, 4000}, [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]})

	// A provider without a path of its own has none: API Gateway answers, not ingest.
	code, ans := s.postEvent(s.provider("legacy"), "", body("legacy", "tx_"+run, "1", "USD"))
	assert.Equal(t, 403, code, "%v", ans)
	assert.Equal(t, "Missing Authentication Token", ans["message"])

	// acme-events' own path needs acme-events' key: another provider's key is refused.
	borrowed := p
	borrowed.APIKey = s.provider("legacy").APIKey
	code, ans = s.postEvent(borrowed, "msg_k_"+run, envelope("payment.succeeded", data(1)))
	assert.Equal(t, 403, code, "%v", ans)
	assert.Equal(t, "api_key_mismatch", ans["error"])
	borrowed.APIKey = ""
	code, ans = s.postEvent(borrowed, "msg_k_"+run, envelope("payment.succeeded", data(1)))
	assert.Equal(t, 403, code, "no key on a keyed path: %v", ans)
}

// TestLocalEventReplay: a Stripe payment whose accounting fails (its day's total would
// overflow) dies in the DLQ, is recorded as failed, and is accounted by replay once the
// cause is gone; the replayed message is the event's, refunds still net against it.
func TestLocalEventReplay(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	ctx := context.Background()
	st := l.State()
	p := s.provider("stripe-events")
	totalKey := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "TOTAL#" + p.Name + "#" + time.Now().UTC().Format("2006-01-02")},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "CUR#ISK"},
	}
	_, err := l.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]ddbtypes.AttributeValue{
		"pk": totalKey["pk"], "sk": totalKey["sk"],
		"total_minor": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(math.MaxInt64-10, 10)}}})
	require.NoError(t, err)
	run := runID()
	// 500 ISK: Stripe states ISK in hundredths, 50000.
	code, ans := s.postEvent(p, "", paymentIntentSucceeded(t, "evt_isk_"+run, "pi_isk_"+run, 50000, stripe.CurrencyISK))
	require.Equal(t, 200, code, "%v", ans)
	item := waitStatus(t, l, p.Name, "evt_isk_"+run, "failed", 90*time.Second)
	assert.Contains(t, str(item, "failure_reason"), "overflow")

	_, err = l.Clients.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.Table), Key: totalKey})
	require.NoError(t, err)
	out := runGo(t, "run", "./services/tools/replay", "-env", "local", "-state", writeState(t, l))
	assert.Contains(t, out, `"sent":1`)
	waitStatus(t, l, p.Name, "evt_isk_"+run, "accounted", 30*time.Second)
	code, ans = s.postEvent(p, "", chargeRefunded(t, "evt_iskr_"+run, "ch_isk_"+run, "pi_isk_"+run, 50000, 10000, stripe.CurrencyISK))
	require.Equal(t, 200, code, "%v", ans)
	waitStatus(t, l, p.Name, "evt_iskr_"+run, "accounted", 30*time.Second)
	assert.Equal(t, [3]int64{500, 100, 400}, dayTotals(t, l, p.Name, "ISK"), "ISO 4217 ISK has no minor unit: 500 - 100 króna")
}

// TestLocalSmokeEveryFormat runs the smoke test against the providers that post events and
// one that posts the flat notification.
func TestLocalSmokeEveryFormat(t *testing.T) {
	l := startLocal(t)
	t.Setenv("PAYHOOK_PROVIDERS", "acme:standard-webhooks,stripe-events:stripe,acme-events:standard-webhooks")
	out := runGo(t, "run", "./services/tools/smoke", "-env", "local", "-state", writeState(t, l))
	for _, want := range []string{"refund accepted (stripe-events, stripe)", "payment nets 1.23 - 0.50 EUR (acme-events, standard-webhooks)",
		"event that moves no money answered 200 ignored (stripe-events, stripe)", "smoke: all checks passed"} {
		assert.Contains(t, out, want)
	}
}
