package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// stdSecretA and stdSecretB are test secrets in the Standard Webhooks
	// format (the first is the reference library's test secret).
	stdSecretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stdSecretB = "whsec_" + "c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
	stdMsgID   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
)

// stdBody is a typical payment notification body.
var stdBody = []byte(`{"type":"payment.succeeded","transaction_id":"tx_123","amount":"12.34","currency":"USD"}`)

// stdHeaders builds the three Standard Webhooks headers.
func stdHeaders(id, ts, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(HeaderWebhookID, id)
	}
	if ts != "" {
		h.Set(HeaderWebhookTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderWebhookSignature, sig)
	}
	return h
}

// mustSignStandard signs with SignStandard and fails the test on error.
func mustSignStandard(t testing.TB, secret, id string, ts time.Time, body []byte) string {
	t.Helper()
	sig, err := SignStandard(secret, id, ts, body)
	require.NoError(t, err)
	return sig
}

// b64sig is a syntactically valid v1 signature that matches nothing.
var b64sig = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xAB}, 32))

func TestParseStandardSignatures(t *testing.T) {
	sigA := bytes.Repeat([]byte{1}, 32)
	sigB := bytes.Repeat([]byte{2}, 32)
	encA := base64.StdEncoding.EncodeToString(sigA)
	encB := base64.StdEncoding.EncodeToString(sigB)
	tests := []struct {
		name    string
		header  string
		want    [][]byte
		wantErr error
	}{
		{"one", "v1," + encA, [][]byte{sigA}, nil},
		{"two", "v1," + encA + " v1," + encB, [][]byte{sigA, sigB}, nil},
		{"other versions ignored", "v1a," + encB + " v1," + encA + " v2," + encB, [][]byte{sigA}, nil},
		{"extra spaces", "  v1," + encA + "   v1," + encB + " ", [][]byte{sigA, sigB}, nil},
		{"bad entry skipped", "v1,!!!! v1," + encA, [][]byte{sigA}, nil},
		{"empty", "", nil, ErrMissingHeader},
		{"only v1a", "v1a," + encA, nil, ErrMalformedHeader},
		{"no comma", "v1" + encA, nil, ErrMalformedHeader},
		{"equals instead of comma", "v1=" + encA, nil, ErrMalformedHeader},
		{"bad base64", "v1,not base64!", nil, ErrMalformedHeader},
		{"url alphabet", "v1," + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))), nil, ErrMalformedHeader},
		{"too short", "v1," + base64.StdEncoding.EncodeToString(sigA[:31]), nil, ErrMalformedHeader},
		{"too long", "v1," + base64.StdEncoding.EncodeToString(append(sigA, 0)), nil, ErrMalformedHeader},
		{"empty signature", "v1,", nil, ErrMalformedHeader},
		{"upper-case version", "V1," + encA, nil, ErrMalformedHeader},
		{"spaces only", "   ", nil, ErrMalformedHeader},
		{"stripe style", "t=1,v1=" + strings.Repeat("ab", 32), nil, ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStandardSignatures(tt.header)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestVerifyStandard(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sigA := mustSignStandard(t, stdSecretA, stdMsgID, now, stdBody)
	sigB := mustSignStandard(t, stdSecretB, stdMsgID, now, stdBody)
	old := now.Add(-6 * time.Minute)
	sigOld := mustSignStandard(t, stdSecretA, stdMsgID, old, stdBody)
	future := now.Add(6 * time.Minute)
	sigFuture := mustSignStandard(t, stdSecretA, stdMsgID, future, stdBody)
	tampered := append(bytes.Clone(stdBody[:len(stdBody)-1]), ' ', '}')

	// A signature with one flipped bit.
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sigA, "v1,"))
	require.NoError(t, err)
	raw[0] ^= 1
	sigFlipped := "v1," + base64.StdEncoding.EncodeToString(raw)

	tests := []struct {
		name      string
		h         Header
		body      []byte
		secrets   []string
		tolerance time.Duration
		wantErr   error
	}{
		{"valid", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{stdSecretA}, 0, nil},
		{"valid, secret without prefix", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{strings.TrimPrefix(stdSecretA, "whsec_")}, 0, nil},
		{"valid, empty body", stdHeaders(stdMsgID, ts, mustSignStandard(t, stdSecretA, stdMsgID, now, nil)), nil, []string{stdSecretA}, 0, nil},
		{"tampered body", stdHeaders(stdMsgID, ts, sigA), tampered, []string{stdSecretA}, 0, ErrNoMatch},
		{"empty body", stdHeaders(stdMsgID, ts, sigA), nil, []string{stdSecretA}, 0, ErrNoMatch},
		{"tampered signature", stdHeaders(stdMsgID, ts, sigFlipped), stdBody, []string{stdSecretA}, 0, ErrNoMatch},
		{"tampered id", stdHeaders(stdMsgID+"x", ts, sigA), stdBody, []string{stdSecretA}, 0, ErrNoMatch},
		{"tampered timestamp", stdHeaders(stdMsgID, strconv.FormatInt(now.Unix()+1, 10), sigA), stdBody, []string{stdSecretA}, 0, ErrNoMatch},
		{"wrong secret", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{stdSecretB}, 0, ErrNoMatch},
		{"stale", stdHeaders(stdMsgID, strconv.FormatInt(old.Unix(), 10), sigOld), stdBody, []string{stdSecretA}, 0, ErrTimestampTooOld},
		{"stale but within a wider tolerance", stdHeaders(stdMsgID, strconv.FormatInt(old.Unix(), 10), sigOld), stdBody, []string{stdSecretA}, 10 * time.Minute, nil},
		{"from the future", stdHeaders(stdMsgID, strconv.FormatInt(future.Unix(), 10), sigFuture), stdBody, []string{stdSecretA}, 0, ErrTimestampInFuture},
		{"rotation: old and new secret, signed with new", stdHeaders(stdMsgID, ts, sigB), stdBody, []string{stdSecretA, stdSecretB}, 0, nil},
		{"rotation: old and new secret, signed with old", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{stdSecretB, stdSecretA}, 0, nil},
		{"rotation: two signatures, second matches", stdHeaders(stdMsgID, ts, "v1,"+b64sig+" "+sigB), stdBody, []string{stdSecretB}, 0, nil},
		{"rotation: two signatures, first matches", stdHeaders(stdMsgID, ts, sigA+" "+sigB), stdBody, []string{stdSecretA}, 0, nil},
		{"rotation: two signatures, none matches", stdHeaders(stdMsgID, ts, sigA+" "+sigB), stdBody, []string{"whsec_" + base64.StdEncoding.EncodeToString([]byte("third"))}, 0, ErrNoMatch},
		{"matching signature under v1a is ignored", stdHeaders(stdMsgID, ts, "v1a,"+strings.TrimPrefix(sigA, "v1,")+" v1,"+b64sig), stdBody, []string{stdSecretA}, 0, ErrNoMatch},
		{"missing id", stdHeaders("", ts, sigA), stdBody, []string{stdSecretA}, 0, ErrMissingHeader},
		{"missing timestamp", stdHeaders(stdMsgID, "", sigA), stdBody, []string{stdSecretA}, 0, ErrMissingHeader},
		{"missing signature", stdHeaders(stdMsgID, ts, ""), stdBody, []string{stdSecretA}, 0, ErrMissingHeader},
		{"no headers", http.Header{}, stdBody, []string{stdSecretA}, 0, ErrMissingHeader},
		{"timestamp not a number", stdHeaders(stdMsgID, "yesterday", sigA), stdBody, []string{stdSecretA}, 0, ErrMalformedHeader},
		{"timestamp in milliseconds out of range", stdHeaders(stdMsgID, "1750000000000", sigA), stdBody, []string{stdSecretA}, 0, ErrMalformedHeader},
		{"timestamp negative", stdHeaders(stdMsgID, "-1", sigA), stdBody, []string{stdSecretA}, 0, ErrMalformedHeader},
		{"signature header garbage", stdHeaders(stdMsgID, ts, "garbage"), stdBody, []string{stdSecretA}, 0, ErrMalformedHeader},
		{"signature header only v2", stdHeaders(stdMsgID, ts, "v2,"+b64sig), stdBody, []string{stdSecretA}, 0, ErrMalformedHeader},
		{"no secrets", stdHeaders(stdMsgID, ts, sigA), stdBody, nil, 0, ErrNoSecret},
		{"empty secret list", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{}, 0, ErrNoSecret},
		{"empty secret", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{""}, 0, ErrInvalidSecret},
		{"prefix only", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{"whsec_"}, 0, ErrInvalidSecret},
		{"only secret not base64", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{"whsec_not*base64"}, 0, ErrInvalidSecret},
		// Mid-rotation, one malformed entry must not disable the good one.
		{"good then malformed secret", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{stdSecretA, "whsec_not*base64"}, 0, nil},
		{"malformed then good secret", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{"whsec_not*base64", "", stdSecretA}, 0, nil},
		{"malformed and non-matching secrets", stdHeaders(stdMsgID, ts, sigA), stdBody, []string{"whsec_not*base64", stdSecretB}, 0, ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyStandard(tt.h, tt.body, tt.secrets, now, tt.tolerance)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantErr)
			assertNoSecretsIn(t, err, tt.secrets, sigA, sigB, sigFlipped, sigOld, sigFuture)
		})
	}
}

// assertNoSecretsIn checks that err's message holds none of the secrets or
// signatures (with and without their prefixes), nor the key or the signature
// as hex.
func assertNoSecretsIn(t *testing.T, err error, secrets []string, sigs ...string) {
	t.Helper()
	msg := err.Error()
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		assert.NotContains(t, msg, s)
		assert.NotContains(t, msg, strings.TrimPrefix(s, "whsec_"))
	}
	for _, s := range sigs {
		assert.NotContains(t, msg, s)
		// The bare signature of a Standard ("v1,<b64>") or Stripe
		// ("t=..,v1=<hex>") header value.
		for _, sep := range []string{"v1,", "v1="} {
			if _, bare, ok := strings.Cut(s, sep); ok {
				assert.NotContains(t, msg, bare)
			}
		}
	}
}

func TestStandardSecretEncodings(t *testing.T) {
	key := []byte("a 32-byte signing key for tests!")
	require.Len(t, key, 32)
	padded := base64.StdEncoding.EncodeToString(key[:31]) // 31 bytes need padding
	require.Contains(t, padded, "=")
	unpadded := strings.TrimRight(padded, "=")
	now := time.Unix(1_750_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)

	mac := hmac.New(sha256.New, key[:31])
	mac.Write([]byte(stdMsgID + "." + ts + "."))
	mac.Write(stdBody)
	sig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))

	for _, secret := range []string{padded, unpadded, "whsec_" + padded, "whsec_" + unpadded} {
		t.Run(secret, func(t *testing.T) {
			require.NoError(t, VerifyStandard(stdHeaders(stdMsgID, ts, sig), stdBody, []string{secret}, now, 0))
			got, err := SignStandard(secret, stdMsgID, now, stdBody)
			require.NoError(t, err)
			assert.Equal(t, sig, got)
		})
	}
}

func TestSignStandardRejectsBadSecret(t *testing.T) {
	for _, secret := range []string{"", "whsec_", "whsec_***"} {
		_, err := SignStandard(secret, stdMsgID, time.Unix(1, 0), stdBody)
		assert.ErrorIs(t, err, ErrInvalidSecret, secret)
	}
}

// TestStandardCompatibilityWithReferenceLibrary proves that signatures made
// by the Standard Webhooks reference library verify here, and that the
// library accepts signatures made here.
func TestStandardCompatibilityWithReferenceLibrary(t *testing.T) {
	secrets := []string{stdSecretA, stdSecretB, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	bodies := [][]byte{stdBody, nil, []byte("not json at all \x00\xff"), bytes.Repeat([]byte("x"), 4096)}
	for _, secret := range secrets {
		for _, body := range bodies {
			wh, err := standardwebhooks.NewWebhook(secret)
			require.NoError(t, err)

			// Library signs, we verify (fixed clock).
			at := time.Unix(1_700_000_123, 0)
			sig, err := wh.Sign(stdMsgID, at, body)
			require.NoError(t, err)
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, stdMsgID)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, sig)
			require.NoError(t, VerifyStandard(h, body, []string{secret}, at.Add(time.Minute), 0))
			// ... and a different body does not verify.
			require.ErrorIs(t, VerifyStandard(h, append(bytes.Clone(body), '!'), []string{secret}, at, 0), ErrNoMatch)

			// We sign, the library verifies (it uses the real clock).
			now := time.Now()
			ours, err := SignStandard(secret, stdMsgID, now, body)
			require.NoError(t, err)
			theirs, err := wh.Sign(stdMsgID, now, body)
			require.NoError(t, err)
			assert.Equal(t, theirs, ours)
			h2 := stdHeaders(stdMsgID, strconv.FormatInt(now.Unix(), 10), "v1a,"+b64sig+" "+ours)
			require.NoError(t, wh.Verify(body, h2))
			require.NoError(t, VerifyStandard(h2, body, []string{secret}, now, 0))
		}
	}
}

func FuzzParseStandardSignatures(f *testing.F) {
	valid := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, seed := range []string{
		"v1," + valid,
		"v1," + valid + " v1," + b64sig,
		"v1a," + valid + " v1," + valid,
		"v2," + valid,
		"v1," + valid[:10],
		"v1,",
		"v1",
		",",
		" ",
		"",
		"v1,====",
		"v1," + valid + "\x00",
		"t=1,v1=" + strings.Repeat("0", 64),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		sigs, err := ParseStandardSignatures(header)
		if err != nil {
			if sigs != nil {
				t.Fatalf("signatures %v returned with error %v", sigs, err)
			}
			if header == "" && !errors.Is(err, ErrMissingHeader) || header != "" && !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("ParseStandardSignatures(%q): unexpected error %v", header, err)
			}
			return
		}
		if len(sigs) == 0 {
			t.Fatalf("ParseStandardSignatures(%q): no signatures and no error", header)
		}
		if len(sigs) > strings.Count(header, "v1,") {
			t.Fatalf("ParseStandardSignatures(%q): %d signatures from %d v1 entries", header, len(sigs), strings.Count(header, "v1,"))
		}
		var rebuilt []string
		for _, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("ParseStandardSignatures(%q): signature of %d bytes", header, len(s))
			}
			enc := base64.StdEncoding.EncodeToString(s)
			if !strings.Contains(header, "v1,"+enc) {
				t.Fatalf("ParseStandardSignatures(%q): signature %s not in header", header, enc)
			}
			rebuilt = append(rebuilt, "v1,"+enc)
		}
		again, err := ParseStandardSignatures(strings.Join(rebuilt, " "))
		if err != nil || len(again) != len(sigs) {
			t.Fatalf("re-parsing canonical form of %q: %v, %d signatures", header, err, len(again))
		}
		for i := range again {
			if !bytes.Equal(again[i], sigs[i]) {
				t.Fatalf("re-parsing canonical form of %q changed signature %d", header, i)
			}
		}
	})
}

func BenchmarkVerifyStandard(b *testing.B) {
	body := bytes.Repeat([]byte("a"), 1024)
	now := time.Unix(1_750_000_000, 0)
	sig := mustSignStandard(b, stdSecretA, stdMsgID, now, body)
	h := stdHeaders(stdMsgID, strconv.FormatInt(now.Unix(), 10), sig)
	secrets := []string{stdSecretB, stdSecretA}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := VerifyStandard(h, body, secrets, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
