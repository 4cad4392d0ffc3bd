package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// API Gateway passes header names as the client spelled them (HTTP/1.1) or lower-cased
// (HTTP/2, and the local API server): ingest finds the signature headers in any case.
func TestSignatureHeadersInAnyCase(t *testing.T) {
	f := newFixture(t)
	spellings := map[string]func(string) string{
		"as signed":  func(k string) string { return k },
		"lower case": strings.ToLower,
		"upper case": strings.ToUpper,
		"canonical":  http.CanonicalHeaderKey,
	}
	for name, spell := range spellings {
		for _, provider := range []string{"stripe", "acme"} {
			req := request(t, provider, flat("tx_case_"+provider+"_"+strings.ReplaceAll(name, " ", "_"), "1", "USD", provider))
			headers := map[string]string{}
			for k, v := range req.Headers {
				headers[spell(k)] = v
			}
			req.Headers = headers
			code, a := call(t, f.h, req)
			assert.Equal(t, http.StatusOK, code, "%s, %s: %+v", provider, name, a)
			assert.Equal(t, "accepted", a.Status, "%s, %s", provider, name)
		}
	}

	// A header that is not the signature header in any case is not taken for it.
	req := request(t, "stripe", flat("tx_case_misnamed", "1", "USD", "stripe"))
	req.Headers["Stripe_Signature"] = req.Headers["Stripe-Signature"]
	delete(req.Headers, "Stripe-Signature")
	code, a := call(t, f.h, req)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, "invalid_signature", a.Error)
}
