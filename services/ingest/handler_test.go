package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/secrets"
	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
	"github.com/payhook/payhook/services/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

const (
	stdSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stdSecretOld = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	stripeSecret = "whsec_test_stripe_0123456789abcdef"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type fixture struct {
	h      *Handler
	store  *store.Store
	queues testenv.Queues
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	st := env.NewStore(t)
	q := env.NewQueues(t, 3, 30*time.Second)
	secretJSON, _ := json.Marshal(map[string][]string{"acme": {stdSecret, stdSecretOld}, "stripe": {stripeSecret}})
	arn := env.PutSecret(t, string(secretJSON))
	h := &Handler{
		Store:    st,
		Queue:    env.SQS,
		QueueURL: q.URL,
		Secrets:  &secrets.Cache{Client: env.SM, SecretID: arn},
		Providers: map[string]signature.Scheme{
			"acme": signature.StandardWebhooks, "stripe": signature.Stripe, "legacy": signature.None,
		},
		MaxBodyBytes: 4096,
		Log:          telemetry.NewLogger(io.Discard, "ingest"),
		Metrics:      telemetry.NewMetrics(io.Discard, "payhook", nil),
		Now:          func() time.Time { return now },
	}
	return fixture{h: h, store: st, queues: q}
}

func flat(id, amount, currency, provider string) string {
	return `{"transaction_id":"` + id + `","amount":` + amount + `,"currency":"` + currency + `","provider":"` + provider + `"}`
}

// request builds a proxy event signed for the provider's scheme.
func request(t *testing.T, provider, body string) events.APIGatewayProxyRequest {
	t.Helper()
	req, err := signedRequest(provider, body)
	require.NoError(t, err)
	req.RequestContext.RequestID = "req-" + t.Name()
	return req
}

// signedRequest builds a proxy event signed for the provider's scheme ("legacy": unsigned).
func signedRequest(provider, body string) (events.APIGatewayProxyRequest, error) {
	headers := map[string]string{"Content-Type": "application/json"}
	switch provider {
	case "acme":
		sig, err := signature.SignStandard(stdSecret, "msg_"+strconv.Itoa(len(body)), now, []byte(body))
		if err != nil {
			return events.APIGatewayProxyRequest{}, err
		}
		headers["webhook-id"] = "msg_" + strconv.Itoa(len(body))
		headers["webhook-timestamp"] = strconv.FormatInt(now.Unix(), 10)
		headers["webhook-signature"] = sig
	case "stripe":
		headers["Stripe-Signature"] = signature.SignStripe(stripeSecret, now, []byte(body))
	}
	return events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/webhooks", Headers: headers, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-bench"},
	}, nil
}

type answer struct {
	Status        string `json:"status"`
	TransactionID string `json:"transaction_id"`
	Error         string `json:"error"`
	Field         string `json:"field"`
	Message       string `json:"message"`
}

func call(t *testing.T, h *Handler, req events.APIGatewayProxyRequest) (int, answer) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	require.NoError(t, err, "the handler answers every outcome with a status, never an error")
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])
	var a answer
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &a), resp.Body)
	return resp.StatusCode, a
}

func TestAcceptStoresAndEnqueues(t *testing.T) {
	f := newFixture(t)
	code, a := call(t, f.h, request(t, "acme", flat("tx_1", `"12.30"`, "USD", "acme")))
	require.Equal(t, http.StatusOK, code, a.Message)
	assert.Equal(t, "accepted", a.Status)

	rec, err := f.store.Get(context.Background(), "acme", "tx_1")
	require.NoError(t, err)
	require.NotNil(t, rec)
	assert.Equal(t, int64(1230), rec.AmountMinor)
	assert.Equal(t, store.StatusReceived, rec.Status)
	assert.True(t, rec.Pending(), "the record stays on the outbox until accounting takes it off (ingest makes two calls)")

	msgs := env.Receive(t, f.queues.URL, 1, 5*time.Second)
	require.Len(t, msgs, 1)
	m, err := notification.ParseMessage(*msgs[0].Body)
	require.NoError(t, err)
	assert.Equal(t, int64(1230), m.AmountMinor)
	assert.Equal(t, rec.PayloadHash, m.PayloadHash)
}

func TestStatusCodes(t *testing.T) {
	f := newFixture(t)
	good := flat("tx_ok", "5", "JPY", "acme")
	base64Req := request(t, "acme", good)
	base64Req.Body, base64Req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(good)), true
	lowerCase := request(t, "stripe", flat("tx_lower", "1.5", "EUR", "stripe"))
	lowerCase.Headers = map[string]string{"content-type": "application/json; charset=UTF-8",
		"stripe-signature": lowerCase.Headers["Stripe-Signature"]}
	multiValue := request(t, "acme", flat("tx_multi", "1", "USD", "acme"))
	multiValue.MultiValueHeaders = map[string][]string{}
	for k, v := range multiValue.Headers {
		multiValue.MultiValueHeaders[k] = []string{v}
	}
	multiValue.Headers = nil

	tampered := request(t, "acme", flat("tx_t", "1", "USD", "acme"))
	tampered.Body = strings.Replace(tampered.Body, `"amount":1`, `"amount":1000`, 1)
	stale := request(t, "acme", flat("tx_s", "1", "USD", "acme"))
	stale.Headers["webhook-timestamp"] = strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := request(t, "stripe", flat("tx_f", "1", "USD", "stripe"))
	future.Headers["Stripe-Signature"] = signature.SignStripe(stripeSecret, now.Add(6*time.Minute), []byte(future.Body))
	unsigned := request(t, "acme", flat("tx_u", "1", "USD", "acme"))
	delete(unsigned.Headers, "webhook-signature")
	textPlain := request(t, "acme", good)
	textPlain.Headers["Content-Type"] = "text/plain"
	noType := request(t, "acme", good)
	delete(noType.Headers, "Content-Type")
	big := request(t, "legacy", flat("tx_big", "1", "USD", "legacy")[:50]+strings.Repeat(" ", 5000)+"}")
	bigB64 := request(t, "legacy", "{}")
	bigB64.Body, bigB64.IsBase64Encoded = base64.StdEncoding.EncodeToString(make([]byte, 5000)), true

	cases := []struct {
		name  string
		req   events.APIGatewayProxyRequest
		code  int
		error string
		field string
	}{
		{"accepted", request(t, "acme", flat("tx_a", `"10.00"`, "USD", "acme")), 200, "", ""},
		{"base64 body", base64Req, 200, "", ""},
		{"lower-case headers", lowerCase, 200, "", ""},
		{"multi-value headers", multiValue, 200, "", ""},
		{"unsigned provider", request(t, "legacy", flat("tx_l", "1", "USD", "legacy")), 200, "", ""},
		{"not json", request(t, "legacy", `{"transaction_id":`), 400, "invalid_json", ""},
		{"array", request(t, "legacy", `[]`), 400, "invalid_json", ""},
		{"two objects", request(t, "legacy", `{} {}`), 400, "invalid_json", ""},
		{"unknown field", request(t, "legacy", `{"provider":"legacy","extra":1}`), 400, "unknown_field", "extra"},
		{"missing provider", request(t, "legacy", `{"transaction_id":"x"}`), 400, "missing_field", "provider"},
		{"unknown provider", request(t, "legacy", flat("tx", "1", "USD", "nobody")), 400, "unknown_provider", "provider"},
		{"missing amount", request(t, "legacy", `{"transaction_id":"x","currency":"USD","provider":"legacy"}`), 400, "missing_field", "amount"},
		{"bad amount", request(t, "legacy", flat("tx", `"1.001"`, "USD", "legacy")), 400, "invalid_amount", "amount"},
		{"negative zero", request(t, "legacy", flat("tx", `"-0"`, "USD", "legacy")), 400, "invalid_amount", "amount"},
		{"huge exponent", request(t, "legacy", flat("tx", `1e400`, "USD", "legacy")), 400, "invalid_amount", "amount"},
		{"hex", request(t, "legacy", flat("tx", `"0x10"`, "USD", "legacy")), 400, "invalid_amount", "amount"},
		{"NaN", request(t, "legacy", flat("tx", `"NaN"`, "USD", "legacy")), 400, "invalid_amount", "amount"},
		{"20 digits", request(t, "legacy", flat("tx", `12345678901234567890`, "USD", "legacy")), 400, "invalid_amount", "amount"},
		{"amount is bool", request(t, "legacy", flat("tx", `true`, "USD", "legacy")), 400, "invalid_type", "amount"},
		{"bad currency", request(t, "legacy", flat("tx", "1", "XYZ", "legacy")), 400, "unknown_currency", "currency"},
		{"lower currency", request(t, "legacy", flat("tx", "1", "usd", "legacy")), 400, "unknown_currency", "currency"},
		{"bad transaction id", request(t, "legacy", flat("tx/../1", "1", "USD", "legacy")), 400, "invalid_value", "transaction_id"},
		{"long transaction id", request(t, "legacy", flat(strings.Repeat("a", 129), "1", "USD", "legacy")), 400, "invalid_value", "transaction_id"},
		{"metadata not object", request(t, "legacy", `{"transaction_id":"m","amount":1,"currency":"USD","provider":"legacy","metadata":[1]}`), 400, "invalid_type", "metadata"},
		{"metadata too deep", request(t, "legacy", `{"transaction_id":"m","amount":1,"currency":"USD","provider":"legacy","metadata":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}}`), 400, "invalid_value", "metadata"},
		{"tampered body", tampered, 401, "invalid_signature", ""},
		{"stale signature", stale, 401, "invalid_signature", ""},
		{"future signature", future, 401, "invalid_signature", ""},
		{"missing signature", unsigned, 401, "invalid_signature", ""},
		{"text/plain", textPlain, 415, "unsupported_media_type", "Content-Type"},
		{"no content type", noType, 415, "unsupported_media_type", "Content-Type"},
		{"too large", big, 413, "payload_too_large", ""},
		{"too large base64", bigB64, 413, "payload_too_large", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, a := call(t, f.h, c.req)
			assert.Equal(t, c.code, code, "%+v", a)
			assert.Equal(t, c.error, a.Error)
			assert.Equal(t, c.field, a.Field)
			if c.code != 200 {
				assert.NotEmpty(t, a.Message)
			}
		})
	}
	// Nothing refused was stored.
	out, err := env.DDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.store.Table)})
	require.NoError(t, err)
	assert.Equal(t, int32(5), out.Count, "only the five accepted requests are stored")
}

func TestDuplicateAndConflict(t *testing.T) {
	f := newFixture(t)
	first := request(t, "acme", flat("tx_dup", `"3.10"`, "EUR", "acme"))
	code, a := call(t, f.h, first)
	require.Equal(t, 200, code, a.Message)
	// The same notification, spelled differently, is a duplicate.
	again := request(t, "acme", `{"provider":"acme","currency":"EUR","amount":3.1,"transaction_id":"tx_dup"}`)
	code, a = call(t, f.h, again)
	assert.Equal(t, 200, code)
	assert.Equal(t, "duplicate", a.Status)
	code, a = call(t, f.h, request(t, "acme", flat("tx_dup", `"3.11"`, "EUR", "acme")))
	assert.Equal(t, 409, code)
	assert.Equal(t, "conflict", a.Error)
	msgs := env.Receive(t, f.queues.URL, 5, 3*time.Second)
	assert.Len(t, msgs, 2, "a duplicate of a record not yet accounted is sent again (its first send may have failed)")
	// Once accounted, a duplicate is answered without a send.
	m, err := notification.ParseMessage(*msgs[0].Body)
	require.NoError(t, err)
	out, err := f.store.Account(context.Background(), m)
	require.NoError(t, err)
	require.Equal(t, store.Accounted, out)
	code, a = call(t, f.h, again)
	assert.Equal(t, 200, code)
	assert.Equal(t, "duplicate", a.Status)
	assert.Empty(t, env.Receive(t, f.queues.URL, 5, 2*time.Second), "a duplicate of an accounted record is not sent")
}

func TestTenConcurrentDuplicatesMakeOneRecord(t *testing.T) {
	f := newFixture(t)
	req := request(t, "stripe", flat("tx_storm", `"99.99"`, "USD", "stripe"))
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := f.h.Handle(context.Background(), req)
			assert.NoError(t, err)
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for _, c := range codes {
		assert.Equal(t, 200, c)
	}
	out, err := env.DDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.store.Table)})
	require.NoError(t, err)
	assert.Equal(t, int32(1), out.Count)
}

func TestRotatedSecretsAndRefresh(t *testing.T) {
	f := newFixture(t)
	body := flat("tx_rot", "1", "USD", "acme")
	req := request(t, "acme", body)
	old, err := signature.SignStandard(stdSecretOld, req.Headers["webhook-id"], now, []byte(body))
	require.NoError(t, err)
	req.Headers["webhook-signature"] = old
	code, a := call(t, f.h, req)
	assert.Equal(t, 200, code, "a signature by the previous secret is accepted during rotation: %s", a.Message)

	// A secret added after the cache was filled is picked up by the refresh on mismatch.
	f.h.Secrets.(*secrets.Cache).Now = func() time.Time { return time.Now().Add(time.Minute) }
	newSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a brand new secret 32 bytes long"))
	arn := f.h.Secrets.(*secrets.Cache).SecretID
	value, _ := json.Marshal(map[string][]string{"acme": {newSecret}})
	_, err = env.SM.PutSecretValue(context.Background(), putSecret(arn, string(value)))
	require.NoError(t, err)
	body = flat("tx_rot2", "1", "USD", "acme")
	req = request(t, "acme", body)
	sig, err := signature.SignStandard(newSecret, req.Headers["webhook-id"], now, []byte(body))
	require.NoError(t, err)
	req.Headers["webhook-signature"] = sig
	code, a = call(t, f.h, req)
	assert.Equal(t, 200, code, a.Message)
}

func TestDependencyFailuresAre503(t *testing.T) {
	t.Run("store", func(t *testing.T) {
		f := newFixture(t)
		f.h.Store = &store.Store{DB: env.DDB, Table: "no-such-table"}
		code, a := call(t, f.h, request(t, "acme", flat("tx", "1", "USD", "acme")))
		assert.Equal(t, 503, code)
		assert.Equal(t, "unavailable", a.Error)
	})
	t.Run("secrets", func(t *testing.T) {
		f := newFixture(t)
		f.h.Secrets = &secrets.Cache{Client: env.SM, SecretID: "no-such-secret"}
		code, _ := call(t, f.h, request(t, "acme", flat("tx", "1", "USD", "acme")))
		assert.Equal(t, 503, code)
	})
	t.Run("secrets on refresh", func(t *testing.T) {
		// Cached secrets do not match (a rotation?) and Secrets Manager cannot be read:
		// the provider must retry, not be told its signature is forged.
		f := newFixture(t)
		cache := f.h.Secrets.(*secrets.Cache)
		code, _ := call(t, f.h, request(t, "acme", flat("tx_r1", "1", "USD", "acme")))
		require.Equal(t, 200, code)
		cache.SecretID = "no-such-secret"
		cache.Now = func() time.Time { return time.Now().Add(time.Minute) }
		req := request(t, "acme", flat("tx_r2", "1", "USD", "acme"))
		sig, err := signature.SignStandard("whsec_"+base64.StdEncoding.EncodeToString([]byte("rotated secret, not cached yet!!")), req.Headers["webhook-id"], now, []byte(req.Body))
		require.NoError(t, err)
		req.Headers["webhook-signature"] = sig
		code, a := call(t, f.h, req)
		assert.Equal(t, 503, code, "%+v", a)
	})
	t.Run("queue", func(t *testing.T) {
		f := newFixture(t)
		f.h.QueueURL = f.queues.URL + "-missing"
		code, _ := call(t, f.h, request(t, "acme", flat("tx_q", "1", "USD", "acme")))
		assert.Equal(t, 503, code)
		rec, err := f.store.Get(context.Background(), "acme", "tx_q")
		require.NoError(t, err)
		require.NotNil(t, rec, "the record is kept")
		assert.True(t, rec.Pending(), "and stays on the outbox for the reconciler")
		// The provider's retry, once the queue is back, enqueues it and answers 200.
		f.h.QueueURL = f.queues.URL
		code, a := call(t, f.h, request(t, "acme", flat("tx_q", "1", "USD", "acme")))
		assert.Equal(t, 200, code)
		assert.Equal(t, "duplicate", a.Status)
		assert.Len(t, env.Receive(t, f.queues.URL, 1, 5*time.Second), 1)
	})
}

// TestLogsCarryIDsNeverBodiesOrSecrets: each answer is logged as JSON with the request id,
// provider and transaction id; neither the body (its metadata) nor a signature or secret.
func TestLogsCarryIDsNeverBodiesOrSecrets(t *testing.T) {
	f := newFixture(t)
	var logs strings.Builder
	f.h.Log = telemetry.NewLogger(&logs, "ingest")
	body := `{"transaction_id":"tx_log","amount":"1.00","currency":"USD","provider":"acme","metadata":{"card":"4111111111111111"}}`
	req := request(t, "acme", body)
	code, _ := call(t, f.h, req)
	require.Equal(t, 200, code)
	bad := request(t, "acme", body)
	bad.Headers["webhook-signature"] = "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))
	code, _ = call(t, f.h, bad)
	require.Equal(t, 401, code)

	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	for _, l := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec), "JSON log line: %s", l)
		assert.Equal(t, "req-"+t.Name(), rec["request_id"], l)
		assert.Equal(t, "acme", rec["provider"], l)
	}
	assert.Contains(t, out, `"transaction_id":"tx_log"`)
	for _, secret := range []string{"4111111111111111", stdSecret, stdSecretOld, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", req.Headers["webhook-signature"]} {
		assert.NotContains(t, out, secret)
	}
}

func TestMalformedSecretDuringRotation(t *testing.T) {
	f := newFixture(t)
	cache := f.h.Secrets.(*secrets.Cache)
	put := func(values map[string][]string) {
		t.Helper()
		b, _ := json.Marshal(values)
		_, err := env.SM.PutSecretValue(context.Background(), putSecret(cache.SecretID, string(b)))
		require.NoError(t, err)
	}

	// GIVEN a rotation that added a malformed entry beside the good secret
	put(map[string][]string{"acme": {stdSecret, "whsec_not*base64"}})
	// WHEN a delivery signed with the good secret arrives
	code, a := call(t, f.h, request(t, "acme", flat("tx_badrot1", "1", "USD", "acme")))
	// THEN it is accepted: the bad entry is skipped, not fatal
	assert.Equal(t, 200, code, a.Message)

	// AND a delivery signed with a secret the cache does not hold is a 503, not a 401, while
	// an entry is malformed: that entry may be the provider's new secret
	other, err := signature.SignStandard(stdSecretOld, "msg_x", now, []byte(flat("tx_badrot1b", "1", "USD", "acme")))
	require.NoError(t, err)
	req := request(t, "acme", flat("tx_badrot1b", "1", "USD", "acme"))
	req.Headers["webhook-signature"] = other
	code, _ = call(t, f.h, req)
	assert.Equal(t, 503, code)

	// GIVEN only malformed entries: nothing can verify, the provider must retry (503)
	put(map[string][]string{"acme": {"whsec_not*base64"}})
	cache.Now = func() time.Time { return time.Now().Add(10 * time.Minute) } // past the TTL: re-read
	code, a = call(t, f.h, request(t, "acme", flat("tx_badrot2", "1", "USD", "acme")))
	assert.Equal(t, 503, code, a.Message)

	// WHEN the operator fixes the secret, THEN the next delivery after MinRefresh picks the
	// fix up at once (a refresh), not after the cache TTL
	put(map[string][]string{"acme": {stdSecret}})
	cache.Now = func() time.Time { return time.Now().Add(11 * time.Minute) } // 1 min later: < TTL, > MinRefresh
	code, a = call(t, f.h, request(t, "acme", flat("tx_badrot2", "1", "USD", "acme")))
	assert.Equal(t, 200, code, a.Message)
}

func TestReserializedPayloadIsADuplicate(t *testing.T) {
	f := newFixture(t)
	deliver := func(id, metadata string) (int, answer) {
		body := `{"transaction_id":"` + id + `","amount":"1.00","currency":"USD","provider":"legacy"`
		if metadata != "" {
			body += `,"metadata":` + metadata
		}
		return call(t, f.h, request(t, "legacy", body+"}"))
	}
	for _, c := range []struct{ first, again string }{
		{"", `null`}, {"", `{}`}, {`null`, `{}`},
		{`{"n":1,"s":"<b>"}`, `{"s":"\u003cb\u003e","n":1.0}`}, {`{"n":100}`, `{"n":1e2}`},
	} {
		id := "tx_reser_" + strconv.Itoa(len(c.first)) + "_" + strconv.Itoa(len(c.again))
		code, a := deliver(id, c.first)
		require.Equal(t, 200, code, a.Message)
		require.Equal(t, "accepted", a.Status)
		code, a = deliver(id, c.again)
		assert.Equal(t, 200, code, "%s then %s: %s", c.first, c.again, a.Message)
		assert.Equal(t, "duplicate", a.Status, "%s then %s", c.first, c.again)
	}
	code, a := deliver("tx_reser_dup", `{"x":2,"x":1}`)
	assert.Equal(t, 400, code)
	assert.Equal(t, "metadata.x", a.Field)
}

func TestEqualPayloadStoredUnderAnOlderHashIsADuplicate(t *testing.T) {
	f := newFixture(t)
	// GIVEN a record stored before the canonical form changed: metadata spelled {"n":1.0}
	// and a hash of that spelling
	n := testenv.Notification(t, "legacy", "tx_oldhash", "1.00", "USD")
	n.Metadata = json.RawMessage(`{"n":1.0}`)
	rec := store.NewTransaction(n, strings.Repeat("0", 64), "r", now)
	out, _, err := f.store.Insert(context.Background(), rec)
	require.NoError(t, err)
	require.Equal(t, store.Inserted, out)

	// WHEN the provider redelivers the same values, THEN it is a duplicate, not a 409
	body := `{"transaction_id":"tx_oldhash","amount":"1.00","currency":"USD","provider":"legacy","metadata":{"n":1}}`
	code, a := call(t, f.h, request(t, "legacy", body))
	assert.Equal(t, 200, code, a.Message)
	assert.Equal(t, "duplicate", a.Status)

	// AND a different value is still a conflict
	body = `{"transaction_id":"tx_oldhash","amount":"1.00","currency":"USD","provider":"legacy","metadata":{"n":2}}`
	code, _ = call(t, f.h, request(t, "legacy", body))
	assert.Equal(t, 409, code)
	body = `{"transaction_id":"tx_oldhash","amount":"1.01","currency":"USD","provider":"legacy","metadata":{"n":1}}`
	code, _ = call(t, f.h, request(t, "legacy", body))
	assert.Equal(t, 409, code)
}

func TestConfigHasNoSecondBodyLimitDefault(t *testing.T) {
	// The body limit's one default lives with the env files, which the stack passes; a
	// missing MAX_BODY_BYTES fails the cold start instead of using another default.
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("QUEUE_URL", "q")
	t.Setenv("SIGNING_SECRET_ARN", "arn")
	t.Setenv("PROVIDERS", "acme:standard-webhooks")
	t.Setenv("MAX_BODY_BYTES", "")
	os.Unsetenv("MAX_BODY_BYTES")
	var cfg Config
	err := config.Load("ingest", &cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MAX_BODY_BYTES")
	t.Setenv("MAX_BODY_BYTES", "131072")
	require.NoError(t, config.Load("ingest", &cfg))
	assert.Equal(t, 131072, cfg.MaxBodyBytes)
}

// countingGetter counts Secrets Manager reads.
type countingGetter struct {
	secrets.Getter
	calls int
}

func (c *countingGetter) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.calls++
	return c.Getter.GetSecretValue(ctx, in, opts...)
}

// TestUnsignedRequestIs401BeforeAnySecretIsRead: while a provider's secret is still unfilled
// (a state the README describes for a new env), a request without a signature, or with a
// stale or garbled one, is the sender's error: 401, no Secrets Manager call, and no
// "unavailable" rejection, the metric that pages and rolls a deployment back. A well-formed,
// fresh signature that cannot be checked is still a 503.
func TestUnsignedRequestIs401BeforeAnySecretIsRead(t *testing.T) {
	f := newFixture(t)
	getter := &countingGetter{Getter: env.SM}
	f.h.Secrets = &secrets.Cache{Client: getter, SecretID: env.PutSecret(t, `{}`)}
	var metrics bytes.Buffer
	f.h.Metrics = telemetry.NewMetrics(&metrics, "payhook", nil)
	for name, edit := range map[string]func(h map[string]string){
		"unsigned": func(h map[string]string) {
			delete(h, "webhook-signature")
			delete(h, "webhook-id")
			delete(h, "webhook-timestamp")
		},
		"stale":   func(h map[string]string) { h["webhook-timestamp"] = strconv.FormatInt(now.Add(-time.Hour).Unix(), 10) },
		"garbled": func(h map[string]string) { h["webhook-signature"] = "v1,!!" },
	} {
		req := request(t, "acme", flat("tx_"+name, "1", "USD", "acme"))
		edit(req.Headers)
		code, a := call(t, f.h, req)
		assert.Equal(t, 401, code, "%s: %+v", name, a)
		assert.Equal(t, "invalid_signature", a.Error, name)
	}
	assert.Zero(t, getter.calls, "no secret was read")
	assert.NotContains(t, metrics.String(), `"Reason":"unavailable"`)

	code, a := call(t, f.h, request(t, "acme", flat("tx_signed", "1", "USD", "acme")))
	assert.Equal(t, 503, code, "a fresh, well-formed signature with no secret to check it against: the provider retries (%+v)", a)
	assert.Equal(t, 1, getter.calls)
}

// TestAPIKeyIsItsProvidersOwn: with keys bound to providers, a request made with acme's key
// that names another provider is refused with 403 before anything is stored, on the API-key
// route and on a keyed provider's own path; the right key passes.
func TestAPIKeyIsItsProvidersOwn(t *testing.T) {
	f := newFixture(t)
	f.h.APIKeys = map[string]string{"acme": "key-acme", "legacy": "key-legacy"}
	withKey := func(req events.APIGatewayProxyRequest, id string) events.APIGatewayProxyRequest {
		req.RequestContext.Identity.APIKeyID = id
		return req
	}
	code, a := call(t, f.h, withKey(request(t, "legacy", flat("tx_k1", "1", "USD", "legacy")), "key-acme"))
	assert.Equal(t, 403, code)
	assert.Equal(t, "api_key_mismatch", a.Error)
	rec, err := f.store.Get(context.Background(), "legacy", "tx_k1")
	require.NoError(t, err)
	assert.Nil(t, rec, "nothing stored")

	code, a = call(t, f.h, withKey(request(t, "stripe", flat("tx_k2", "1", "USD", "stripe")), "key-acme"))
	assert.Equal(t, 403, code, "a keyless provider (no key of its own) is never posted with a key: %+v", a)

	code, a = call(t, f.h, withKey(request(t, "legacy", flat("tx_k3", "1", "USD", "legacy")), "key-legacy"))
	assert.Equal(t, 200, code, "%+v", a)

	own := withKey(request(t, "acme", flat("tx_k4", "1", "USD", "acme")), "key-legacy")
	own.Resource = "/webhooks/acme"
	code, a = call(t, f.h, own)
	assert.Equal(t, 403, code, "on a provider's own path too: %+v", a)
}
