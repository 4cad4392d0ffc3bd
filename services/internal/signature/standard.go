package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	// HeaderWebhookID carries the message id, unique per message and kept
	// across redeliveries.
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp carries the signing time in unix seconds.
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature carries space-separated "v1,<base64>"
	// signatures.
	HeaderWebhookSignature = "webhook-signature"
)

// standardSecretPrefix is the optional prefix of Standard Webhooks secrets.
const standardSecretPrefix = "whsec_"

// ParseStandardSignatures parses a webhook-signature header: a list of
// space-separated "<version>,<base64 signature>" entries. It returns the
// decoded "v1" signatures, each exactly 32 bytes (HMAC-SHA256), in header
// order. Entries of other versions (such as "v1a,...") and entries that
// cannot be decoded are skipped; when no v1 signature remains the header is
// malformed. An empty header is an error wrapping ErrMissingHeader.
func ParseStandardSignatures(header string) ([][]byte, error) {
	if header == "" {
		return nil, fmt.Errorf("%s header: %w", HeaderWebhookSignature, ErrMissingHeader)
	}
	var sigs [][]byte
	for _, entry := range strings.Split(header, " ") {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		// Go's base64 decoder skips \r and \n even in strict mode; a signature holding
		// them is malformed, not the signature without them.
		if len(encoded) != base64.StdEncoding.EncodedLen(sha256.Size) || strings.ContainsAny(encoded, "\r\n") {
			continue
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(encoded)
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		sigs = append(sigs, sig)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%s header: no valid v1 signature: %w", HeaderWebhookSignature, ErrMalformedHeader)
	}
	return sigs, nil
}

// standardKey decodes a Standard Webhooks secret: base64 (standard alphabet,
// padded or not) after an optional "whsec_" prefix.
func standardKey(secret string) ([]byte, error) {
	raw := strings.TrimPrefix(secret, standardSecretPrefix)
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil && !strings.Contains(raw, "=") {
		key, err = base64.RawStdEncoding.DecodeString(raw)
	}
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) == 0 {
		return nil, errors.New("empty key")
	}
	return key, nil
}

// standardKeys decodes the usable secrets, skipping malformed ones (see Unusable), so that
// one bad entry during a rotation does not disable the good ones. It fails only when none
// is usable, naming the bad ones by position only.
func standardKeys(secrets []string) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("standard webhooks: %w", ErrNoSecret)
	}
	keys := make([][]byte, 0, len(secrets))
	var bad []string
	for i, s := range secrets {
		key, err := standardKey(s)
		if err != nil {
			// err never includes the secret: standardKey builds its
			// own messages and drops base64's (which quote offsets).
			bad = append(bad, fmt.Sprintf("#%d %s", i+1, err.Error()))
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("standard webhooks: no usable secret (%s): %w", strings.Join(bad, ", "), ErrInvalidSecret)
	}
	return keys, nil
}

// standardMAC computes the Standard Webhooks signature of a message.
func standardMAC(key []byte, id, timestamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyStandard verifies a Standard Webhooks request: h must carry
// webhook-id, webhook-timestamp (unix seconds) and webhook-signature, the
// timestamp must be within tolerance of now in either direction (a tolerance
// <= 0 means DefaultStandardTolerance), and some secret must produce one of
// the v1 signatures over "id.timestamp.body". Secrets may carry the "whsec_"
// prefix. h is read case-insensitively (see Header).
//
// It returns nil or an error wrapping ErrNoSecret, ErrInvalidSecret,
// ErrMissingHeader, ErrMalformedHeader, ErrTimestampTooOld,
// ErrTimestampInFuture or ErrNoMatch.
func VerifyStandard(h Header, body []byte, secrets []string, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs, err := standardHeaders(h, now, tolerance)
	if err != nil {
		return err
	}
	keys, err := standardKeys(secrets)
	if err != nil {
		return err
	}
	for _, key := range keys {
		expected := standardMAC(key, id, tsText, body)
		for _, sig := range sigs {
			if hmac.Equal(expected, sig) {
				return nil
			}
		}
	}
	return fmt.Errorf("standard webhooks: %d signature(s) checked against %d secret(s): %w", len(sigs), len(keys), ErrNoMatch)
}

// standardHeaders reads the three Standard Webhooks headers and checks the timestamp: what
// needs no secret.
func standardHeaders(h Header, now time.Time, tolerance time.Duration) (id, tsText string, sigs [][]byte, err error) {
	id = h.Get(HeaderWebhookID)
	tsText = h.Get(HeaderWebhookTimestamp)
	sigHeader := h.Get(HeaderWebhookSignature)
	for _, hv := range []struct{ name, value string }{
		{HeaderWebhookID, id}, {HeaderWebhookTimestamp, tsText}, {HeaderWebhookSignature, sigHeader},
	} {
		if hv.value == "" {
			return "", "", nil, fmt.Errorf("standard webhooks: %s header: %w", hv.name, ErrMissingHeader)
		}
	}
	ts, err := parseTimestamp(tsText)
	if err != nil {
		return "", "", nil, fmt.Errorf("standard webhooks: %s header: %s: %w", HeaderWebhookTimestamp, err.Error(), ErrMalformedHeader)
	}
	if sigs, err = ParseStandardSignatures(sigHeader); err != nil {
		return "", "", nil, fmt.Errorf("standard webhooks: %w", err)
	}
	if err := checkTimestamp(ts, now, orDefault(tolerance, DefaultStandardTolerance)); err != nil {
		return "", "", nil, fmt.Errorf("standard webhooks: %w", err)
	}
	return id, tsText, sigs, nil
}

// SignStandard returns the webhook-signature header value ("v1,<base64>")
// for a message, as a Standard Webhooks sender would compute it. It is meant
// for tests, local runs and smoke tests that post signed webhooks. The
// timestamp is truncated to whole seconds; send strconv.FormatInt(
// timestamp.Unix(), 10) as webhook-timestamp.
func SignStandard(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := standardKey(secret)
	if err != nil {
		return "", fmt.Errorf("standard webhooks: signing: %s: %w", err.Error(), ErrInvalidSecret)
	}
	mac := standardMAC(key, id, strconv.FormatInt(timestamp.Unix(), 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(mac), nil
}
