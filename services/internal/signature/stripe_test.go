package signature

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"
)

const (
	stripeSecretA = "whsec_test_secret_a_0123456789abcdef"
	stripeSecretB = "whsec_test_secret_b_fedcba9876543210"
)

// stripeBody is a typical Stripe event body.
var stripeBody = []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":1234,"currency":"usd"}}}`)

// stripeHeader builds a header carrying Stripe-Signature.
func stripeHeader(value string) http.Header {
	h := http.Header{}
	if value != "" {
		h.Set(HeaderStripeSignature, value)
	}
	return h
}

// v1Of returns the hex signature of a "t=..,v1=<hex>" header value.
func v1Of(t testing.TB, header string) string {
	t.Helper()
	_, sig, ok := strings.Cut(header, ",v1=")
	require.True(t, ok, header)
	return sig
}

func TestParseStripeHeader(t *testing.T) {
	sigA := bytes.Repeat([]byte{0xA1}, 32)
	sigB := bytes.Repeat([]byte{0xB2}, 32)
	hexA, hexB := hex.EncodeToString(sigA), hex.EncodeToString(sigB)
	tests := []struct {
		name     string
		header   string
		wantTS   int64
		wantSigs [][]byte
		wantErr  error
	}{
		{"one", "t=1700000000,v1=" + hexA, 1700000000, [][]byte{sigA}, nil},
		{"two v1", "t=1700000000,v1=" + hexA + ",v1=" + hexB, 1700000000, [][]byte{sigA, sigB}, nil},
		{"t last", "v1=" + hexA + ",t=5", 5, [][]byte{sigA}, nil},
		{"v0 and unknown ignored", "t=1,v0=" + hexB + ",v1=" + hexA + ",v9=zz,foo=bar", 1, [][]byte{sigA}, nil},
		{"upper-case hex", "t=1,v1=" + strings.ToUpper(hexA), 1, [][]byte{sigA}, nil},
		{"bad v1 ignored when another is valid", "t=1,v1=nothex,v1=" + hexA, 1, [][]byte{sigA}, nil},
		{"empty", "", 0, nil, ErrMissingHeader},
		{"no t", "v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"no v1", "t=1700000000", 0, nil, ErrMalformedHeader},
		{"only v0", "t=1700000000,v0=" + hexA, 0, nil, ErrMalformedHeader},
		{"v1 not hex", "t=1700000000,v1=xyz", 0, nil, ErrMalformedHeader},
		{"v1 too short", "t=1700000000,v1=" + hexA[:62], 0, nil, ErrMalformedHeader},
		{"v1 odd length", "t=1700000000,v1=" + hexA[:63], 0, nil, ErrMalformedHeader},
		{"v1 too long", "t=1700000000,v1=" + hexA + "00", 0, nil, ErrMalformedHeader},
		{"v1 empty", "t=1700000000,v1=", 0, nil, ErrMalformedHeader},
		{"duplicate t", "t=1700000000,t=1700000001,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"duplicate identical t", "t=1,t=1,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"t not a number", "t=now,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"t negative", "t=-1,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"t with sign", "t=+1,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"t empty", "t=,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"t leading zero", "t=01,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"t overflow", "t=99999999999999999999,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"pair without =", "t=1,v1" + hexA, 0, nil, ErrMalformedHeader},
		{"empty pair", "t=1,,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"trailing comma", "t=1,v1=" + hexA + ",", 0, nil, ErrMalformedHeader},
		{"empty key", "t=1,=x,v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"spaces", "t=1, v1=" + hexA, 0, nil, ErrMalformedHeader},
		{"standard webhooks style", "v1,abc", 0, nil, ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, sigs, err := ParseStripeHeader(tt.header)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Zero(t, ts)
				assert.Nil(t, sigs)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantTS, ts)
			assert.Equal(t, tt.wantSigs, sigs)
		})
	}
}

func TestVerifyStripe(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	hdrA := SignStripe(stripeSecretA, now, stripeBody)
	hdrB := SignStripe(stripeSecretB, now, stripeBody)
	old := SignStripe(stripeSecretA, now.Add(-301*time.Second), stripeBody)
	edgeOld := SignStripe(stripeSecretA, now.Add(-300*time.Second), stripeBody)
	future := SignStripe(stripeSecretA, now.Add(301*time.Second), stripeBody)
	edgeFuture := SignStripe(stripeSecretA, now.Add(300*time.Second), stripeBody)
	tsPart := "t=" + strconv.FormatInt(now.Unix(), 10)

	flipped := []byte(v1Of(t, hdrA))
	if flipped[0] == '0' {
		flipped[0] = '1'
	} else {
		flipped[0] = '0'
	}
	hdrFlipped := tsPart + ",v1=" + string(flipped)
	junk := strings.Repeat("ab", 32)
	tampered := bytes.Replace(stripeBody, []byte("1234"), []byte("9234"), 1)

	tests := []struct {
		name      string
		h         Header
		body      []byte
		secrets   []string
		tolerance time.Duration
		wantErr   error
	}{
		{"valid", stripeHeader(hdrA), stripeBody, []string{stripeSecretA}, 0, nil},
		{"valid, with v0 entry", stripeHeader(hdrA + ",v0=" + junk), stripeBody, []string{stripeSecretA}, 0, nil},
		{"tampered body", stripeHeader(hdrA), tampered, []string{stripeSecretA}, 0, ErrNoMatch},
		{"body with trailing newline", stripeHeader(hdrA), append(bytes.Clone(stripeBody), '\n'), []string{stripeSecretA}, 0, ErrNoMatch},
		{"tampered signature", stripeHeader(hdrFlipped), stripeBody, []string{stripeSecretA}, 0, ErrNoMatch},
		{"tampered timestamp", stripeHeader("t=" + strconv.FormatInt(now.Unix()-1, 10) + ",v1=" + v1Of(t, hdrA)), stripeBody, []string{stripeSecretA}, 0, ErrNoMatch},
		{"wrong secret", stripeHeader(hdrA), stripeBody, []string{stripeSecretB}, 0, ErrNoMatch},
		{"secret without whsec_ prefix is a different key", stripeHeader(hdrA), stripeBody, []string{strings.TrimPrefix(stripeSecretA, "whsec_")}, 0, ErrNoMatch},
		{"stale", stripeHeader(old), stripeBody, []string{stripeSecretA}, 0, ErrTimestampTooOld},
		{"stale at the edge", stripeHeader(edgeOld), stripeBody, []string{stripeSecretA}, 0, nil},
		{"stale within wider tolerance", stripeHeader(old), stripeBody, []string{stripeSecretA}, 10 * time.Minute, nil},
		{"from the future", stripeHeader(future), stripeBody, []string{stripeSecretA}, 0, ErrTimestampInFuture},
		{"future at the edge", stripeHeader(edgeFuture), stripeBody, []string{stripeSecretA}, 0, nil},
		{"rotation: two secrets, signed with new", stripeHeader(hdrB), stripeBody, []string{stripeSecretA, stripeSecretB}, 0, nil},
		{"rotation: two secrets, signed with old", stripeHeader(hdrA), stripeBody, []string{stripeSecretB, stripeSecretA}, 0, nil},
		{"rotation: two signatures, second matches", stripeHeader(tsPart + ",v1=" + junk + ",v1=" + v1Of(t, hdrB)), stripeBody, []string{stripeSecretB}, 0, nil},
		{"rotation: two signatures, first matches", stripeHeader(hdrA + ",v1=" + v1Of(t, hdrB)), stripeBody, []string{stripeSecretA}, 0, nil},
		{"rotation: two signatures, none matches", stripeHeader(hdrA + ",v1=" + v1Of(t, hdrB)), stripeBody, []string{"whsec_third"}, 0, ErrNoMatch},
		{"matching signature as v0 is ignored", stripeHeader(tsPart + ",v0=" + v1Of(t, hdrA) + ",v1=" + junk), stripeBody, []string{stripeSecretA}, 0, ErrNoMatch},
		{"missing header", http.Header{}, stripeBody, []string{stripeSecretA}, 0, ErrMissingHeader},
		{"malformed header", stripeHeader("garbage"), stripeBody, []string{stripeSecretA}, 0, ErrMalformedHeader},
		{"no t", stripeHeader("v1=" + v1Of(t, hdrA)), stripeBody, []string{stripeSecretA}, 0, ErrMalformedHeader},
		{"no v1", stripeHeader(tsPart), stripeBody, []string{stripeSecretA}, 0, ErrMalformedHeader},
		{"duplicate t", stripeHeader(tsPart + "," + hdrA), stripeBody, []string{stripeSecretA}, 0, ErrMalformedHeader},
		{"no secrets", stripeHeader(hdrA), stripeBody, nil, 0, ErrNoSecret},
		{"only empty secrets", stripeHeader(hdrA), stripeBody, []string{"", ""}, 0, ErrInvalidSecret},
		{"empty secret beside a good one", stripeHeader(hdrA), stripeBody, []string{"", stripeSecretA}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyStripe(tt.h, tt.body, tt.secrets, now, tt.tolerance)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantErr)
			assertNoSecretsIn(t, err, tt.secrets, hdrA, hdrB, hdrFlipped, old, future)
		})
	}
}

// TestStripeCompatibilityWithStripeGo proves that headers generated by
// stripe-go verify here, and that stripe-go accepts headers computed here.
func TestStripeCompatibilityWithStripeGo(t *testing.T) {
	secrets := []string{stripeSecretA, "whsec_" + strings.Repeat("Z", 32), "plain-secret"}
	bodies := [][]byte{stripeBody, {}, []byte("\x00\xff not json"), bytes.Repeat([]byte("y"), 4096)}
	for _, secret := range secrets {
		for _, body := range bodies {
			// stripe-go signs, we verify (fixed clock).
			at := time.Unix(1_700_000_123, 0)
			signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
				Payload:   body,
				Secret:    secret,
				Timestamp: at,
			})
			require.NoError(t, VerifyStripe(stripeHeader(signed.Header), signed.Payload, []string{secret}, at.Add(time.Minute), 0))
			assert.Equal(t, signed.Header, SignStripe(secret, at, body))
			require.ErrorIs(t, VerifyStripe(stripeHeader(signed.Header), append(bytes.Clone(body), '!'), []string{secret}, at, 0), ErrNoMatch)

			// We sign, stripe-go verifies (it uses the real clock).
			now := time.Now()
			ours := SignStripe(secret, now, body) + ",v0=" + strings.Repeat("00", 32)
			require.NoError(t, webhook.ValidatePayload(body, ours, secret))
			require.NoError(t, VerifyStripe(stripeHeader(ours), body, []string{secret}, now, 0))
			assert.Error(t, webhook.ValidatePayload(body, ours, secret+"x"))
		}
	}
}

func FuzzParseStripeHeader(f *testing.F) {
	hexSig := strings.Repeat("a1", 32)
	for _, seed := range []string{
		"t=1700000000,v1=" + hexSig,
		"t=1700000000,v1=" + hexSig + ",v1=" + strings.Repeat("b2", 32) + ",v0=" + hexSig,
		"v1=" + hexSig + ",t=1",
		"t=1700000000",
		"v1=" + hexSig,
		"t=1,t=2,v1=" + hexSig,
		"t=-1,v1=" + hexSig,
		"t=99999999999999999999,v1=" + hexSig,
		"t=1,v1=zz",
		"t=1,,v1=" + hexSig,
		"t=1,v1=" + hexSig + ",",
		"=,=",
		"",
		",",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		ts, sigs, err := ParseStripeHeader(header)
		if err != nil {
			if ts != 0 || sigs != nil {
				t.Fatalf("ParseStripeHeader(%q): values (%d, %v) returned with error %v", header, ts, sigs, err)
			}
			if header == "" && !errors.Is(err, ErrMissingHeader) || header != "" && !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("ParseStripeHeader(%q): unexpected error %v", header, err)
			}
			return
		}
		if ts < 0 || ts > maxTimestamp {
			t.Fatalf("ParseStripeHeader(%q): timestamp %d out of range", header, ts)
		}
		if !strings.Contains(","+header+",", ",t="+strconv.FormatInt(ts, 10)+",") {
			t.Fatalf("ParseStripeHeader(%q): t=%d not in header", header, ts)
		}
		if len(sigs) == 0 {
			t.Fatalf("ParseStripeHeader(%q): no signatures and no error", header)
		}
		rebuilt := "t=" + strconv.FormatInt(ts, 10)
		for _, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("ParseStripeHeader(%q): signature of %d bytes", header, len(s))
			}
			if !strings.Contains(strings.ToLower(header), "v1="+hex.EncodeToString(s)) {
				t.Fatalf("ParseStripeHeader(%q): signature %x not in header", header, s)
			}
			rebuilt += ",v1=" + hex.EncodeToString(s)
		}
		ts2, sigs2, err := ParseStripeHeader(rebuilt)
		if err != nil || ts2 != ts || len(sigs2) != len(sigs) {
			t.Fatalf("re-parsing canonical form %q of %q: %v", rebuilt, header, err)
		}
		for i := range sigs2 {
			if !bytes.Equal(sigs2[i], sigs[i]) {
				t.Fatalf("re-parsing canonical form of %q changed signature %d", header, i)
			}
		}
	})
}

func BenchmarkVerifyStripe(b *testing.B) {
	body := bytes.Repeat([]byte("a"), 1024)
	now := time.Unix(1_750_000_000, 0)
	h := stripeHeader(SignStripe(stripeSecretA, now, body))
	secrets := []string{stripeSecretB, stripeSecretA}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := VerifyStripe(h, body, secrets, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
