package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HeaderStripeSignature is the header Stripe signs its webhooks in.
const HeaderStripeSignature = "Stripe-Signature"

// ParseStripeHeader parses a Stripe-Signature header,
// "t=<unix seconds>,v1=<hex>,v1=<hex>,v0=<hex>": comma-separated key=value
// pairs. It returns the timestamp and the decoded v1 signatures, each exactly
// 32 bytes (HMAC-SHA256), in header order. Unknown keys (v0, future schemes)
// are ignored, and so are v1 values that are not 64 hex digits. The header is
// malformed (ErrMalformedHeader) when a pair has no "=", when t is missing,
// repeated or not plain unix seconds, or when no valid v1 signature remains.
// An empty header is an error wrapping ErrMissingHeader.
func ParseStripeHeader(header string) (ts int64, sigs [][]byte, err error) {
	if header == "" {
		return 0, nil, fmt.Errorf("%s header: %w", HeaderStripeSignature, ErrMissingHeader)
	}
	haveTS := false
	for _, pair := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return 0, nil, fmt.Errorf("%s header: element without key=value: %w", HeaderStripeSignature, ErrMalformedHeader)
		}
		switch key {
		case "t":
			if haveTS {
				return 0, nil, fmt.Errorf("%s header: repeated t: %w", HeaderStripeSignature, ErrMalformedHeader)
			}
			parsed, perr := parseTimestamp(value)
			if perr != nil {
				return 0, nil, fmt.Errorf("%s header: t: %s: %w", HeaderStripeSignature, perr.Error(), ErrMalformedHeader)
			}
			ts, haveTS = parsed, true
		case "v1":
			sig, derr := hex.DecodeString(value)
			if derr != nil || len(sig) != sha256.Size {
				continue
			}
			sigs = append(sigs, sig)
		}
	}
	if !haveTS {
		return 0, nil, fmt.Errorf("%s header: no t: %w", HeaderStripeSignature, ErrMalformedHeader)
	}
	if len(sigs) == 0 {
		return 0, nil, fmt.Errorf("%s header: no valid v1 signature: %w", HeaderStripeSignature, ErrMalformedHeader)
	}
	return ts, sigs, nil
}

// stripeMAC computes Stripe's v1 signature of body at timestamp ts.
func stripeMAC(secret string, ts int64, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// stripeSecrets returns the usable (non-empty) secrets; it fails when there are none.
func stripeSecrets(secrets []string) ([]string, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("stripe: %w", ErrNoSecret)
	}
	usable := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s != "" {
			usable = append(usable, s)
		}
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("stripe: all %d secrets are empty: %w", len(secrets), ErrInvalidSecret)
	}
	return usable, nil
}

// VerifyStripe verifies a Stripe webhook: h must carry Stripe-Signature, its
// t must be within tolerance of now in either direction (a tolerance <= 0
// means DefaultStripeTolerance; Stripe's own library only rejects old
// timestamps, this also rejects ones too far in the future), and some secret,
// used verbatim as the HMAC key ("whsec_..." included), must produce one of
// the v1 signatures over "t.body". h is read case-insensitively.
//
// The header and its timestamp are checked before any secret is looked at, so
// a missing, malformed or stale header is the sender's error even when no
// secret is configured. It returns nil or an error wrapping ErrMissingHeader,
// ErrMalformedHeader, ErrTimestampTooOld, ErrTimestampInFuture, ErrNoSecret,
// ErrInvalidSecret or ErrNoMatch.
func VerifyStripe(h Header, body []byte, secrets []string, now time.Time, tolerance time.Duration) error {
	ts, sigs, err := stripeChecked(h, now, tolerance)
	if err != nil {
		return err
	}
	secrets, err = stripeSecrets(secrets)
	if err != nil {
		return err
	}
	for _, secret := range secrets {
		expected := stripeMAC(secret, ts, body)
		for _, sig := range sigs {
			if hmac.Equal(expected, sig) {
				return nil
			}
		}
	}
	return fmt.Errorf("stripe: %d signature(s) checked against %d secret(s): %w", len(sigs), len(secrets), ErrNoMatch)
}

// stripeChecked parses Stripe-Signature and checks its timestamp: what needs no secret.
func stripeChecked(h Header, now time.Time, tolerance time.Duration) (int64, [][]byte, error) {
	ts, sigs, err := ParseStripeHeader(h.Get(HeaderStripeSignature))
	if err != nil {
		return 0, nil, fmt.Errorf("stripe: %w", err)
	}
	if err := checkTimestamp(ts, now, orDefault(tolerance, DefaultStripeTolerance)); err != nil {
		return 0, nil, fmt.Errorf("stripe: %w", err)
	}
	return ts, sigs, nil
}

// SignStripe returns a Stripe-Signature header value ("t=<unix>,v1=<hex>")
// for body, as Stripe would compute it with secret at timestamp (truncated
// to whole seconds). It is meant for tests, local runs and smoke tests that
// post signed webhooks.
func SignStripe(secret string, timestamp time.Time, body []byte) string {
	ts := timestamp.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(stripeMAC(secret, ts, body))
}
