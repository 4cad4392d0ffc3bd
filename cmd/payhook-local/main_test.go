package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/payhook/payhook/internal/localrun"
)

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &errb), "-template is required")
	assert.Contains(t, errb.String(), "usage: payhook-local -template PATH")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-nope"}, &out, &errb))
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-template", "cdk.out", "-app", "orders"}, &out, &errb), "an unknown app")
	assert.Contains(t, errb.String(), `-app "orders": want payhook or generic`)
}

func TestCurls(t *testing.T) {
	s := &localrun.State{
		Endpoint: "http://127.0.0.1:1234/v1/webhooks",
		Providers: []localrun.StateProvider{
			{Name: "acme", Scheme: "standard-webhooks", Secret: "whsec_c2VjcmV0", APIKey: "ACMEKEY"},
			{Name: "stripe", Scheme: "stripe", Secret: "whsec_abc", APIKey: "STRIPEKEY"},
			{Name: "legacy", Scheme: "none", APIKey: "KEY"},
			{Name: "stripe-events", Scheme: "stripe", Secret: "whsec_ev", Format: []byte(`{"format":"stripe"}`), Keyless: true},
		},
	}
	var b bytes.Buffer
	printCurls(&b, s)
	out := b.String()
	assert.Contains(t, out, `provider "legacy" is unsigned`)
	assert.Contains(t, out, `curl -sS -X POST 'http://127.0.0.1:1234/v1/webhooks' -H 'x-api-key: KEY' -H 'Content-Type: application/json' -d '{"transaction_id":"tx_local_3","amount":"12.34","currency":"USD","provider":"legacy"}'`)
	assert.Contains(t, out, `printf '%s' 'c2VjcmV0' | base64 -d`, "the Standard Webhooks key is the decoded secret")
	assert.Contains(t, out, `-H "webhook-signature: v1,$SIG"`)
	assert.Contains(t, out, `openssl dgst -sha256 -hmac 'whsec_abc'`, "Stripe keys with the whole secret")
	assert.Contains(t, out, `-H "Stripe-Signature: t=$TS,v1=$SIG"`)
	assert.Contains(t, out, `"type":"payment_intent.succeeded","livemode":false`, "a Stripe event for the provider posting them")
	assert.Contains(t, out, `curl -sS -X POST 'http://127.0.0.1:1234/v1/webhooks/stripe-events' -H 'Content-Type: application/json' -H "Stripe-Signature`,
		"on its own route, without an API key")
	assert.Contains(t, out, `-H 'x-api-key: ACMEKEY'`, "each provider with its own key")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  BODY=") || strings.HasPrefix(line, "  curl") {
			assert.Equal(t, 1, strings.Count(line, "curl "), "one command per line: %s", line)
		}
	}
}
