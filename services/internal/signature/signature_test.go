package signature

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScheme(t *testing.T) {
	tests := []struct {
		in      string
		want    Scheme
		wantErr bool
	}{
		{"standard-webhooks", StandardWebhooks, false},
		{"stripe", Stripe, false},
		{"none", None, false},
		{"", "", true},
		{"Stripe", "", true},
		{"STRIPE", "", true},
		{" stripe", "", true},
		{"standard_webhooks", "", true},
		{"svix", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScheme(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrUnknownScheme)
				assert.Equal(t, Scheme(""), got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestVerifyDispatch(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	body := []byte(`{"id":"evt_1"}`)

	stdSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stdSig, err := SignStandard(stdSecret, "msg_1", now, body)
	require.NoError(t, err)
	stdHeader := http.Header{}
	stdHeader.Set(HeaderWebhookID, "msg_1")
	stdHeader.Set(HeaderWebhookTimestamp, "1750000000")
	stdHeader.Set(HeaderWebhookSignature, stdSig)

	stripeSecret := "whsec_stripe_test_secret"
	stripeHeader := http.Header{}
	stripeHeader.Set(HeaderStripeSignature, SignStripe(stripeSecret, now, body))

	tests := []struct {
		name    string
		scheme  Scheme
		h       Header
		secrets []string
		now     time.Time
		wantErr error
	}{
		{"standard ok", StandardWebhooks, stdHeader, []string{stdSecret}, now, nil},
		{"standard within 5 min", StandardWebhooks, stdHeader, []string{stdSecret}, now.Add(5 * time.Minute), nil},
		{"standard beyond 5 min", StandardWebhooks, stdHeader, []string{stdSecret}, now.Add(5*time.Minute + time.Second), ErrTimestampTooOld},
		{"standard with stripe headers", StandardWebhooks, stripeHeader, []string{stdSecret}, now, ErrMissingHeader},
		{"stripe ok", Stripe, stripeHeader, []string{stripeSecret}, now, nil},
		{"stripe within 300 s", Stripe, stripeHeader, []string{stripeSecret}, now.Add(300 * time.Second), nil},
		{"stripe beyond 300 s", Stripe, stripeHeader, []string{stripeSecret}, now.Add(301 * time.Second), ErrTimestampTooOld},
		{"stripe future beyond 300 s", Stripe, stripeHeader, []string{stripeSecret}, now.Add(-301 * time.Second), ErrTimestampInFuture},
		{"stripe with standard headers", Stripe, stdHeader, []string{stripeSecret}, now, ErrMissingHeader},
		{"none ignores everything", None, http.Header{}, nil, now, nil},
		{"unknown scheme", Scheme("hmac"), stdHeader, []string{stdSecret}, now, ErrUnknownScheme},
		{"empty scheme", Scheme(""), stdHeader, []string{stdSecret}, now, ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.scheme, tt.h, body, tt.secrets, tt.now)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestCheckTimestamp(t *testing.T) {
	ts := int64(1_700_000_000)
	signed := time.Unix(ts, 0)
	tol := 300 * time.Second
	tests := []struct {
		name    string
		now     time.Time
		wantErr error
	}{
		{"same second", signed, nil},
		{"exactly tolerance old", signed.Add(tol), nil},
		{"just over tolerance old", signed.Add(tol + time.Nanosecond), ErrTimestampTooOld},
		{"exactly tolerance ahead", signed.Add(-tol), nil},
		{"just over tolerance ahead", signed.Add(-tol - time.Nanosecond), ErrTimestampInFuture},
		{"a day old", signed.Add(24 * time.Hour), ErrTimestampTooOld},
		{"a day ahead", signed.Add(-24 * time.Hour), ErrTimestampInFuture},
		{"now is the zero time", time.Time{}, ErrTimestampInFuture},
		{"now is far future", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ErrTimestampTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTimestamp(ts, tt.now, tol)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1700000000", 1700000000, true},
		{"253402300799", 253402300799, true},
		{"253402300800", 0, false},
		{"9223372036854775807", 0, false},
		{"99999999999999999999999", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"+1700000000", 0, false},
		{"01700000000", 0, false},
		{"1700000000.5", 0, false},
		{"1e9", 0, false},
		{" 1700000000", 0, false},
		{"0x10", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTimestamp(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestUnusable(t *testing.T) {
	good := "whsec_" + base64.StdEncoding.EncodeToString([]byte("key"))
	assert.Equal(t, []int{2, 3}, Unusable(StandardWebhooks, []string{good, "whsec_not*base64", ""}))
	assert.Empty(t, Unusable(StandardWebhooks, []string{good}))
	assert.Equal(t, []int{1}, Unusable(Stripe, []string{"", "whsec_x"}))
	assert.Empty(t, Unusable(None, []string{""}))
}

// TestPrecheckNeedsNoSecret: what a request must carry is checked without a secret, and
// Verify checks it first, so an unsigned request is the sender's error even while no secret
// is configured (ErrMissingHeader, not ErrNoSecret).
func TestPrecheckNeedsNoSecret(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)
	std := http.Header{}
	sig, err := SignStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", now, body)
	require.NoError(t, err)
	std.Set(HeaderWebhookID, "msg_1")
	std.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	std.Set(HeaderWebhookSignature, sig)
	stale := std.Clone()
	stale.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Add(-time.Hour).Unix(), 10))
	garbled := std.Clone()
	garbled.Set(HeaderWebhookSignature, "v1,not-base64")
	stripe := http.Header{}
	stripe.Set(HeaderStripeSignature, SignStripe("whsec_x", now, body))
	tests := []struct {
		name   string
		scheme Scheme
		h      http.Header
		want   error
	}{
		{"standard, signed", StandardWebhooks, std, nil},
		{"standard, unsigned", StandardWebhooks, http.Header{}, ErrMissingHeader},
		{"standard, stale", StandardWebhooks, stale, ErrTimestampTooOld},
		{"standard, garbled", StandardWebhooks, garbled, ErrMalformedHeader},
		{"stripe, signed", Stripe, stripe, nil},
		{"stripe, unsigned", Stripe, http.Header{}, ErrMissingHeader},
		{"none", None, http.Header{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Precheck(tc.scheme, tc.h, now)
			if tc.want == nil {
				require.NoError(t, err)
				// Past the precheck, no secret is a configuration fault.
				if tc.scheme != None {
					assert.ErrorIs(t, Verify(tc.scheme, tc.h, body, nil, now), ErrNoSecret)
				}
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, Verify(tc.scheme, tc.h, body, nil, now), tc.want, "Verify checks the header before the secrets")
		})
	}
}
