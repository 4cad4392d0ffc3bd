package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

// staticSecrets serves fixed secrets so the benchmark measures the CPU path only.
type staticSecrets map[string][]string

func (s staticSecrets) For(_ context.Context, p string) ([]string, error) { return s[p], nil }
func (s staticSecrets) Refresh(context.Context, string) (bool, error)     { return false, nil }

// BenchmarkIngestPath measures everything ingest does to a request before its first I/O:
// header handling, size and media-type checks, strict decoding, signature verification,
// exact amount parsing, validation, the payload hash, and the record and queue message.
func BenchmarkIngestPath(b *testing.B) {
	for _, provider := range []string{"acme", "stripe", "legacy"} {
		b.Run(provider, func(b *testing.B) {
			h := &Handler{
				Secrets:      staticSecrets{"acme": {stdSecret}, "stripe": {stripeSecret}},
				Providers:    map[string]signature.Scheme{"acme": signature.StandardWebhooks, "stripe": signature.Stripe, "legacy": signature.None},
				MaxBodyBytes: 65536,
				Log:          telemetry.NewLogger(io.Discard, "ingest"),
				Now:          func() time.Time { return now },
			}
			req, err := signedRequest(provider, `{"transaction_id":"tx_bench_0001","amount":"1234.56","currency":"EUR","provider":"`+provider+`","metadata":{"order":"A-1","customer":{"id":42}}}`)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n, _, rej := h.admitKeyed(ctx, h.Log, req)
				if rej != nil {
					b.Fatalf("refused: %v", rej)
				}
				rec := store.NewTransaction(n, n.Hash(), "req", now)
				_ = rec.Message().Body()
			}
		})
	}
}
