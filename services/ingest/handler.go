// Package main is the ingest function: API Gateway (REST, Lambda proxy integration) →
// validate → verify the provider's signature → store idempotently in DynamoDB → enqueue
// for accounting.
//
// # Status codes
//
// 200 accepted (new or duplicate) or ignored (an event that moves no money), 400 invalid
// payload, 401 bad or stale signature (or an unsigned provider on its own path), 403 an API
// key that is not the provider's, 404 no such provider on its own path, 409 same
// (provider, transaction_id) or
// (provider, event id) with another payload, 413 body too large, 415 not JSON, 422 an
// event's livemode differs from the environment's, 503 a dependency failed (the provider
// retries). Errors are JSON: {"error": code, "field": field, "message": text}.
//
// # Two routes, three formats
//
// POST /<path> takes payhook's flat notification, which names its provider, behind the
// provider's own API key. POST /<path>/<provider>, a literal path of each provider that has
// one, takes what that provider posts in its configured format (payhook's flat
// notification, Stripe events or a Standard Webhooks envelope), with the provider's key or,
// for a keyless provider (Stripe cannot send a key), its signature alone. Events are
// deduplicated on the provider's event id (package payload, store.NewEventRecord).
//
// # Nothing lost: transactional outbox in the table
//
// The record is written (conditionally, so one per provider and transaction id) together
// with an outbox marker: it sits on the table's gsi1 index under OUTBOX#<shard> until
// accounting takes it off. Only then is the message sent to SQS, and only after the send
// succeeds does ingest answer 200: two AWS calls, the put and the send. If the send fails
// ingest answers 503; a redelivery of the same payload re-sends a record not yet accounted,
// and the reconciler function (services/reconciler, run every minute) sends every record
// still on the outbox after a grace period (a batching window and an accounting invocation
// and 30 s), even if the provider never retries, and moves it to the in-flight list so
// that it is not sent again before the queue's retention has passed. Accounting is
// idempotent, so a message sent twice is counted once.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/payload"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

// Config is ingest's environment.
type Config struct {
	// TableName is the DynamoDB table.
	TableName string `envconfig:"TABLE_NAME" required:"true"`
	// QueueURL is the accounting queue.
	QueueURL string `envconfig:"QUEUE_URL" required:"true"`
	// SigningSecretARN is the Secrets Manager secret holding the providers' signing secrets.
	SigningSecretARN string `envconfig:"SIGNING_SECRET_ARN" required:"true"`
	// SmokeSigningSecretARN is the smoke provider's own signing secret; "" reads the smoke
	// provider's secrets from SigningSecretARN like any other's.
	SmokeSigningSecretARN string `envconfig:"SMOKE_SIGNING_SECRET_ARN"`
	// Providers maps each configured provider to its signature scheme:
	// "acme:standard-webhooks,stripe:stripe,legacy:none".
	Providers map[string]string `envconfig:"PROVIDERS" required:"true"`
	// MaxBodyBytes is the largest accepted body, after base64 decoding. Required: its one
	// default lives with the env files (envs: api.max_body_bytes), which the stack passes.
	MaxBodyBytes int `envconfig:"MAX_BODY_BYTES" required:"true"`
	// Env names the environment in metrics.
	Env string `envconfig:"PAYHOOK_ENV" default:"unknown"`
	// PayloadFormats holds the providers that post events instead of payhook's flat
	// notification (contract.FormatsSpec); absent providers post the flat notification.
	PayloadFormats string `envconfig:"PAYLOAD_FORMATS"`
	// Live is true in an environment that takes live payments: events with livemode false
	// are refused, and in one that does not, events with livemode true.
	Live bool `envconfig:"PAYHOOK_LIVE" default:"false"`
	// APIKeys binds each keyed provider to its API key's id ("acme:<id>,…"); a request made
	// with a key must name the key's provider. Empty: keys are not bound.
	APIKeys map[string]string `envconfig:"API_KEYS"`
}

// Schemes validates Providers and returns them typed.
func (c Config) Schemes() (map[string]signature.Scheme, error) {
	if len(c.Providers) == 0 {
		return nil, fmt.Errorf("PROVIDERS: at least one provider:scheme is required")
	}
	out := make(map[string]signature.Scheme, len(c.Providers))
	for name, raw := range c.Providers {
		s, err := signature.ParseScheme(raw)
		if err != nil {
			return nil, fmt.Errorf("PROVIDERS: provider %q: %w", name, err)
		}
		out[name] = s
	}
	if c.MaxBodyBytes < 1 {
		return nil, fmt.Errorf("MAX_BODY_BYTES: must be positive, got %d", c.MaxBodyBytes)
	}
	return out, nil
}

// Decoders builds the decoders of the providers that post events (PayloadFormats), each
// checked against its signature scheme: Stripe's format needs Stripe's signature, and a
// Standard Webhooks envelope the Standard Webhooks one, which signs the webhook-id that
// deduplicates it (an unsigned id would let a replayed body count again under a new id).
func (c Config) Decoders(schemes map[string]signature.Scheme) (map[string]payload.Decoder, error) {
	formats, err := contract.ParseFormatsSpec(c.PayloadFormats)
	if err != nil {
		return nil, err
	}
	want := map[string]signature.Scheme{contract.FormatStripe: signature.Stripe, contract.FormatStandardWebhooks: signature.StandardWebhooks}
	out := make(map[string]payload.Decoder, len(formats))
	for name, f := range formats {
		scheme, ok := schemes[name]
		if !ok {
			return nil, fmt.Errorf("%s: provider %q is not in PROVIDERS", contract.EnvPayloadFormats, name)
		}
		if scheme != want[f.Format] {
			return nil, fmt.Errorf("%s: provider %q posts %s, which needs scheme %s, not %s", contract.EnvPayloadFormats, name, f.Format, want[f.Format], scheme)
		}
		if out[name], err = payload.NewDecoder(f); err != nil {
			return nil, fmt.Errorf("%s: provider %q: %w", contract.EnvPayloadFormats, name, err)
		}
	}
	return out, nil
}

// SecretSource yields a provider's signing secrets (package secrets' Cache).
type SecretSource interface {
	For(ctx context.Context, provider string) ([]string, error)
	// Refresh re-reads the secrets that hold provider's.
	Refresh(ctx context.Context, provider string) (bool, error)
}

// Handler handles webhook deliveries.
type Handler struct {
	// Store is the table.
	Store *store.Store
	// Queue sends to the accounting queue at QueueURL.
	Queue    relay.Sender
	QueueURL string
	// Secrets yields each provider's signing secrets.
	Secrets SecretSource
	// Providers are the configured providers and their signature schemes.
	Providers map[string]signature.Scheme
	// Decoders read the providers that post events (by provider name).
	Decoders map[string]payload.Decoder
	// Live is the environment's livemode (see Config.Live).
	Live bool
	// APIKeys are the keyed providers' API key ids (see Config.APIKeys).
	APIKeys map[string]string
	// MaxBodyBytes is the body limit (413 above it).
	MaxBodyBytes int
	// Log and Metrics receive structured logs and EMF metrics.
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// response is the JSON body of every answer.
type response struct {
	Status        string `json:"status,omitempty"`
	TransactionID string `json:"transaction_id,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	EventType     string `json:"event_type,omitempty"`
	Error         string `json:"error,omitempty"`
	Field         string `json:"field,omitempty"`
	Message       string `json:"message,omitempty"`
}

func reply(code int, body response) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(body)
	return events.APIGatewayProxyResponse{
		StatusCode: code,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

// Handle is the Lambda entry point. It never returns an error: every outcome, including a
// failed dependency or a bug, is an HTTP status (API Gateway would turn an error into a
// 502 with an opaque body).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	log := h.Log.With("request_id", req.RequestContext.RequestID)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("aws_request_id", lc.AwsRequestID)
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic while handling webhook", "panic", fmt.Sprint(p))
			h.Metrics.Count("Rejected", 1, map[string]string{"Reason": "internal"})
			resp = reply(http.StatusInternalServerError, response{Error: "internal", Message: "internal error"})
		}
	}()
	code, body, attrs := h.handle(ctx, log, req)
	if code >= 400 {
		reason := body.Error
		h.Metrics.Count("Rejected", 1, map[string]string{"Reason": reason})
		level := slog.LevelWarn
		if code >= 500 {
			level = slog.LevelError
		}
		log.Log(ctx, level, "webhook rejected", append(attrs, "status", code, "error", reason, "field", body.Field)...)
	} else {
		// One line per webhook: the log line is also the EMF record of its count.
		metric := h.Metrics.CountAttrs(strings.ToUpper(body.Status[:1])+body.Status[1:], 1, nil)
		log.Info("webhook "+body.Status, append(append(attrs, "status", code), metric...)...)
	}
	return reply(code, body), nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) handle(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest) (int, response, []any) {
	route := routeOf(req.Resource)
	admit := h.admitKeyed
	if route != "" {
		if rej := h.routable(route); rej != nil {
			return rej.status, rej.body, []any{"provider", notification.Clip(route)}
		}
		if rej := h.keyHolds(req, route); rej != nil {
			return rej.status, rej.body, []any{"provider", route}
		}
		if dec, ok := h.Decoders[route]; ok {
			return h.handleEvent(ctx, log, req, route, dec)
		}
		admit = func(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest) (notification.Notification, []any, *rejection) {
			return h.admitOwnPath(ctx, log, req, route)
		}
	}
	n, attrs, rej := admit(ctx, log, req)
	if rej != nil {
		return rej.status, rej.body, attrs
	}
	hash := n.Hash()
	rec := store.NewTransaction(n, hash, req.RequestContext.RequestID, h.now())
	outcome, existing, err := h.Store.Insert(ctx, rec)
	if err != nil {
		log.Error("store transaction failed", append(attrs, "err", err.Error())...)
		rej := unavailable("store")
		return rej.status, rej.body, attrs
	}
	result := "accepted"
	switch outcome {
	case store.Conflict:
		if !sameNotification(n, existing) {
			return http.StatusConflict, response{Error: "conflict", Field: "transaction_id", TransactionID: n.TransactionID,
				Message: "this transaction_id was already received with a different payload"}, attrs
		}
		// Equal values under a hash of an earlier canonical form (a record stored before
		// the canonical form last changed): a duplicate, not a conflict.
		fallthrough
	case store.Duplicate:
		result = "duplicate"
		if !existing.Pending() {
			return http.StatusOK, response{Status: result, TransactionID: n.TransactionID}, attrs
		}
		// Stored earlier and not accounted yet (its send may have failed): send again now.
		rec = *existing
	}
	if rej := h.enqueue(ctx, log, &rec, attrs); rej != nil {
		return rej.status, rej.body, attrs
	}
	return http.StatusOK, response{Status: result, TransactionID: n.TransactionID}, attrs
}

// enqueue sends a stored record's message; a rejection (503) means the send failed. Either
// way the record stays on the outbox until accounting takes it off: the reconciler sends
// whatever is still there after its grace period (decision 0001), so ingest makes two AWS
// calls, the put and the send.
func (h *Handler) enqueue(ctx context.Context, log *slog.Logger, rec *store.Transaction, attrs []any) *rejection {
	if err := relay.Send(ctx, h.Queue, h.QueueURL, rec); err != nil {
		log.Error("enqueue failed; record stays on the outbox", append(attrs, "err", err.Error())...)
		return unavailable("queue")
	}
	return nil
}

// sameNotification reports whether a stored record holds the same notification as n by
// value (amount, currency, canonical metadata), whatever hash it was stored with.
func sameNotification(n notification.Notification, existing *store.Transaction) bool {
	if existing == nil || existing.AmountMinor != n.Amount.Minor || existing.Currency != n.Amount.Currency.Code {
		return false
	}
	stored, err := notification.CanonicalMetadata([]byte(existing.Metadata))
	if existing.Metadata == "" {
		stored, err = nil, nil
	}
	return err == nil && string(stored) == string(n.Metadata)
}

// verify checks the provider's signature; it returns nil when the request may proceed.
// errSecretsUnavailable marks a failure to read the signing secrets (503, never 401).
var errSecretsUnavailable = errors.New("signing secrets unavailable")

func (h *Handler) verify(ctx context.Context, log *slog.Logger, scheme signature.Scheme, provider string, headers http.Header, body []byte) *rejection {
	if scheme == signature.None {
		return nil
	}
	// A missing, malformed or stale signature is refused before any secret is read: it costs
	// no Secrets Manager call and, while a secret is unfilled, never turns into a 503 (which
	// pages and rolls a deployment back).
	if err := signature.Precheck(scheme, headers, h.now()); err != nil {
		return rejectSignature(log, scheme, provider, err)
	}
	var bad []int
	check := func() error {
		list, err := h.Secrets.For(ctx, provider)
		if err != nil {
			return fmt.Errorf("%w: %w", errSecretsUnavailable, err)
		}
		if bad = signature.Unusable(scheme, list); len(bad) > 0 {
			// A malformed entry (say, mid-rotation) is skipped; the others still verify.
			log.Error("skipping unusable signing secrets", "provider", provider, "positions", bad, "configured", len(list))
		}
		return signature.Verify(scheme, headers, body, list, h.now())
	}
	err := check()
	if errors.Is(err, signature.ErrNoMatch) || errors.Is(err, signature.ErrNoSecret) || errors.Is(err, signature.ErrInvalidSecret) {
		// Maybe the secrets were rotated or fixed since they were cached: re-read them (at
		// most once per MinRefresh) before refusing. If they cannot be re-read, a genuine
		// delivery signed with a new secret must not get 401.
		refreshed, rerr := h.Secrets.Refresh(ctx, provider)
		if rerr != nil {
			log.Error("signing secrets unavailable on refresh", "provider", provider, "err", rerr.Error())
			return unavailable("secrets")
		}
		if refreshed {
			err = check()
		}
	}
	if errors.Is(err, errSecretsUnavailable) {
		log.Error("signing secrets unavailable", "provider", provider, "err", err.Error())
		return unavailable("secrets")
	}
	if errors.Is(err, signature.ErrNoMatch) && len(bad) > 0 {
		// Nothing matched while a configured secret is unusable: it may be the one the
		// provider now signs with. A configuration fault: 503, so the provider retries.
		log.Error("no signature matched and a signing secret is unusable", "provider", provider, "positions", bad)
		return unavailable("secrets")
	}
	if errors.Is(err, signature.ErrNoSecret) || errors.Is(err, signature.ErrInvalidSecret) {
		// A configuration fault, not the sender's: fail so the provider retries.
		log.Error("no usable signing secret", "provider", provider, "reason", err.Error())
		return unavailable("secrets")
	}
	if err != nil {
		return rejectSignature(log, scheme, provider, err)
	}
	return nil
}

// rejectSignature answers 401 to a request whose signature does not hold.
func rejectSignature(log *slog.Logger, scheme signature.Scheme, provider string, err error) *rejection {
	log.Warn("signature rejected", "provider", provider, "scheme", string(scheme), "reason", err.Error())
	return reject(http.StatusUnauthorized, response{Error: "invalid_signature", Message: "signature missing, invalid or outside the allowed time window"})
}

// headerOf builds a case-insensitive header set from the proxy event.
func headerOf(req events.APIGatewayProxyRequest) http.Header {
	h := make(http.Header, len(req.Headers))
	for k, vs := range req.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range req.Headers {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	return h
}

func isJSON(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}
