// Package signature verifies webhook signatures over the raw request body.
//
// Two provider conventions are supported:
//
//   - Standard Webhooks (https://www.standardwebhooks.com): headers
//     webhook-id, webhook-timestamp and webhook-signature, HMAC-SHA256 over
//     "id.timestamp.body" keyed with the base64-decoded "whsec_" secret;
//   - Stripe: the Stripe-Signature header "t=<unix>,v1=<hex>,...",
//     HMAC-SHA256 over "t.body" keyed with the secret string as is.
//
// Both accept several secrets (rotation) and several signatures in one
// header: a request is authentic when any secret matches any signature.
// Signatures are compared in constant time (crypto/hmac.Equal), and the
// timestamp must lie within a tolerance of now, in the past and in the
// future.
//
// Every failure wraps one of the sentinel errors below, so that the HTTP
// layer can answer 401 while logging the reason. No error message ever
// contains a secret or a signature, received or computed.
package signature

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error returned by this package wraps exactly one
// of them.
var (
	// ErrMissingHeader: a required signature header is absent or empty.
	ErrMissingHeader = errors.New("missing signature header")
	// ErrMalformedHeader: a signature header cannot be parsed, or holds no
	// signature of a supported version.
	ErrMalformedHeader = errors.New("malformed signature header")
	// ErrTimestampTooOld: the signed timestamp is older than the tolerance.
	ErrTimestampTooOld = errors.New("signature timestamp too old")
	// ErrTimestampInFuture: the signed timestamp is further in the future
	// than the tolerance.
	ErrTimestampInFuture = errors.New("signature timestamp in the future")
	// ErrNoMatch: no secret produces any of the signatures presented.
	ErrNoMatch = errors.New("no matching signature")
	// ErrNoSecret: no secret was configured. This is a configuration
	// problem, not the sender's fault.
	ErrNoSecret = errors.New("no signing secret configured")
	// ErrInvalidSecret: a configured secret is unusable (empty, or for
	// Standard Webhooks not valid base64). This is a configuration problem,
	// not the sender's fault; the message names the secret's position in
	// the list, never its value.
	ErrInvalidSecret = errors.New("invalid signing secret")
	// ErrUnknownScheme: the scheme is not one of the Scheme constants.
	ErrUnknownScheme = errors.New("unknown signature scheme")
)

// Header gives the value of a request header, matching the name case-
// insensitively and returning "" when it is absent. net/http.Header
// satisfies it (its Get canonicalizes the name); ingest builds one from the
// API Gateway proxy event.
type Header interface {
	Get(name string) string
}

// Scheme names a signature convention, as written in an environment's
// provider configuration.
type Scheme string

// The supported schemes.
const (
	// StandardWebhooks is the Standard Webhooks convention (webhook-*
	// headers, "whsec_" base64 secrets).
	StandardWebhooks Scheme = "standard-webhooks"
	// Stripe is Stripe's Stripe-Signature convention.
	Stripe Scheme = "stripe"
	// None disables signature verification (for providers authenticated by
	// other means, such as an API key alone).
	None Scheme = "none"
)

// ParseScheme returns the Scheme spelled exactly s, or an error wrapping
// ErrUnknownScheme.
func ParseScheme(s string) (Scheme, error) {
	switch sc := Scheme(s); sc {
	case StandardWebhooks, Stripe, None:
		return sc, nil
	default:
		return "", fmt.Errorf("signature: parsing scheme %q (want %q, %q or %q): %w",
			s, StandardWebhooks, Stripe, None, ErrUnknownScheme)
	}
}

// Default tolerances between a signature's timestamp and now, applied in both
// directions.
const (
	// DefaultStandardTolerance is the Standard Webhooks default, 5 minutes.
	DefaultStandardTolerance = 5 * time.Minute
	// DefaultStripeTolerance is Stripe's default, 300 seconds.
	DefaultStripeTolerance = 300 * time.Second
)

// Verify checks the signature of body under scheme with that scheme's
// default tolerance. None accepts everything and returns nil; an unknown
// scheme is an error wrapping ErrUnknownScheme.
func Verify(scheme Scheme, h Header, body []byte, secrets []string, now time.Time) error {
	switch scheme {
	case StandardWebhooks:
		return VerifyStandard(h, body, secrets, now, DefaultStandardTolerance)
	case Stripe:
		return VerifyStripe(h, body, secrets, now, DefaultStripeTolerance)
	case None:
		return nil
	default:
		return fmt.Errorf("signature: verifying with scheme %q: %w", scheme, ErrUnknownScheme)
	}
}

// Precheck checks, without any secret, what a request under scheme must carry before its
// signature is worth checking: the signature headers, well-formed, with a timestamp within
// the scheme's default tolerance. A request that fails it is the sender's error (401) even
// while no secret is configured; one that passes may still fail Verify. None passes.
func Precheck(scheme Scheme, h Header, now time.Time) error {
	var err error
	switch scheme {
	case StandardWebhooks:
		_, _, _, err = standardHeaders(h, now, DefaultStandardTolerance)
	case Stripe:
		_, _, err = stripeChecked(h, now, DefaultStripeTolerance)
	case None:
	default:
		err = fmt.Errorf("signature: checking with scheme %q: %w", scheme, ErrUnknownScheme)
	}
	return err
}

// Unusable returns the 1-based positions of the secrets that scheme cannot use (empty, or
// for Standard Webhooks not valid base64), so a caller can report a misconfiguration.
// Verification skips them and fails with ErrInvalidSecret only when none is usable.
func Unusable(scheme Scheme, secrets []string) []int {
	var bad []int
	for i, s := range secrets {
		var unusable bool
		switch scheme {
		case StandardWebhooks:
			_, err := standardKey(s)
			unusable = err != nil
		case Stripe:
			unusable = s == ""
		}
		if unusable {
			bad = append(bad, i+1)
		}
	}
	return bad
}

// maxTimestamp is the largest accepted unix timestamp, 9999-12-31T23:59:59Z;
// it keeps every time computation far from overflow.
const maxTimestamp = 253402300799

// parseTimestamp parses a unix timestamp in seconds written as plain ASCII
// digits without sign or leading zeros.
func parseTimestamp(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty timestamp")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("timestamp has leading zeros")
	}
	if len(s) > 12 {
		return 0, errors.New("timestamp out of range")
	}
	var ts int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, errors.New("timestamp is not a decimal integer")
		}
		ts = ts*10 + int64(c-'0')
	}
	if ts > maxTimestamp {
		return 0, errors.New("timestamp out of range")
	}
	return ts, nil
}

// checkTimestamp checks that ts (unix seconds) is within tolerance of now.
func checkTimestamp(ts int64, now time.Time, tolerance time.Duration) error {
	signed := time.Unix(ts, 0)
	if age := now.Sub(signed); age > tolerance {
		return fmt.Errorf("signed %s before now, tolerance %s: %w", age.Truncate(time.Second), tolerance, ErrTimestampTooOld)
	}
	if ahead := signed.Sub(now); ahead > tolerance {
		return fmt.Errorf("signed %s after now, tolerance %s: %w", ahead.Truncate(time.Second), tolerance, ErrTimestampInFuture)
	}
	return nil
}

// orDefault returns tolerance, or def when tolerance is not positive.
func orDefault(tolerance, def time.Duration) time.Duration {
	if tolerance <= 0 {
		return def
	}
	return tolerance
}
