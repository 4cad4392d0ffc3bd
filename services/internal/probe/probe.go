// Package probe drives a running payhook from the outside, as a webhook provider would: it
// finds the target (the local stack's .payhook/local.json, or a deployed environment's
// stack outputs), signs and posts notifications with each provider's scheme, and reads the
// table back to see them accounted. The smoke test and the load test are built on it.
package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/localstate"
	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
)

// Provider is a configured provider with the secret to sign its webhooks and, for a
// provider that posts events, its payload format.
type Provider struct {
	Name   string
	Scheme string
	Secret string
	Format *contract.PayloadFormat
	// APIKey is the provider's own API key; "" for a keyless provider.
	APIKey string
	// Keyless providers post to their own path without an API key.
	Keyless bool
}

// Target is a running payhook to probe.
type Target struct {
	Env       string
	Endpoint  string
	Providers []Provider
	// Live is the env's livemode: the probes' events carry it.
	Live     bool
	Store    *store.Store
	QueueURL string
}

// Local returns the target described by the local stack's state file (internal/localstate),
// with the providers PAYHOOK_PROVIDERS names when it is set. It points this process's AWS
// SDK at the emulators, as local mode's functions are.
func Local(ctx context.Context, path string) (*Target, error) {
	s, err := localstate.Read(path)
	if err != nil {
		return nil, fmt.Errorf("local target: %w", err)
	}
	if s == nil {
		return nil, fmt.Errorf("local target: no %s (is `go run mage.go local` running?)", path)
	}
	if !s.Running {
		return nil, fmt.Errorf("%s says the local stack is stopped: start it with `go run mage.go local`", path)
	}
	all, err := localProviders(s.Providers)
	if err != nil {
		return nil, fmt.Errorf("local target %s: %w", path, err)
	}
	providers, err := only(all, os.Getenv(contract.ProbeProviders))
	if err != nil {
		return nil, err
	}
	for k, v := range emulators.SDKEnv(s.Region, s.Emulators.DynamoDB, s.Emulators.SQS, s.Emulators.SecretsManager) {
		os.Setenv(k, v)
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("local target: %w", err)
	}
	return &Target{Env: strings.TrimPrefix(s.Stack, "payhook-"), Endpoint: s.Endpoint, Providers: providers,
		Live: s.Live, Store: &store.Store{DB: config.DynamoDB(cfg), Table: s.Table}, QueueURL: s.QueueURL}, nil
}

// localProviders are the state file's providers as the probes sign for them, each format
// decoded.
func localProviders(in []localstate.Provider) ([]Provider, error) {
	out := make([]Provider, 0, len(in))
	for _, p := range in {
		lp := Provider{Name: p.Name, Scheme: p.Scheme, Secret: p.Secret, APIKey: p.APIKey, Keyless: p.Keyless}
		if len(p.Format) > 0 && string(p.Format) != "null" {
			var f contract.PayloadFormat
			if err := json.Unmarshal(p.Format, &f); err != nil {
				return nil, fmt.Errorf("provider %s: format: %w", p.Name, err)
			}
			lp.Format = &f
		}
		out = append(out, lp)
	}
	return out, nil
}

// only keeps the providers a PAYHOOK_PROVIDERS value names (all of them when it is empty),
// as a deployed target has only those: a local probe can so run exactly as the pipeline's.
func only(all []Provider, spec string) ([]Provider, error) {
	if spec == "" {
		return all, nil
	}
	want, err := ParseProviders(spec)
	if err != nil {
		return nil, err
	}
	var out []Provider
	for _, w := range want {
		found := false
		for _, p := range all {
			if p.Name == w.Name {
				out, found = append(out, p), true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s names %s, which the local stack does not have", contract.ProbeProviders, w.Name)
		}
	}
	return out, nil
}

// TargetFlags registers the flags that choose a target on fs: -env (default $ENV, else
// "local") and -state (the local stack's state file, read only for env local). Pass their
// values to Find once fs is parsed.
func TargetFlags(fs *flag.FlagSet) (env, state *string) {
	def := os.Getenv("ENV")
	if def == "" {
		def = "local"
	}
	env = fs.String("env", def, "environment: local, or a deployed one (its stack outputs)")
	state = fs.String("state", localstate.DefaultPath, "local stack state file (env local)")
	return env, state
}

// Find returns the local stack's target for env "local", else the deployed env's.
func Find(ctx context.Context, env, statePath string) (*Target, error) {
	if env == "local" {
		return Local(ctx, statePath)
	}
	if err := RequireCredentials(ctx, env); err != nil {
		return nil, err
	}
	return Deployed(ctx, env)
}

// ParseProviders reads "name:scheme,name:scheme".
func ParseProviders(s string) ([]Provider, error) {
	spec, err := contract.ParseProvidersSpec(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contract.ProbeProviders, err)
	}
	if len(spec) == 0 {
		return nil, fmt.Errorf("%s is empty: want name:scheme,...", contract.ProbeProviders)
	}
	out := make([]Provider, 0, len(spec))
	for _, p := range spec {
		if _, err := signature.ParseScheme(p.Scheme); err != nil {
			return nil, fmt.Errorf("%s: %w", contract.ProbeProviders, err)
		}
		out = append(out, Provider{Name: p.Name, Scheme: p.Scheme})
	}
	return out, nil
}

// Response is one answer from the endpoint.
type Response struct {
	Status int
	// Body is the answer decoded as a JSON object; nil when it is not one (an HTML page
	// from WAF, an empty body).
	Body map[string]any
	// Raw is the start of the answer as received, at most RawLimit bytes, for messages.
	Raw []byte
	// Truncated reports that the answer was longer than Raw.
	Truncated bool
	Latency   time.Duration
}

// RawLimit is how much of an answer Response.Raw keeps.
const RawLimit = 512

// String describes the answer for a message: its HTTP status and its raw body
// (truncated to RawLimit bytes), whatever the body is.
func (r Response) String() string {
	if len(r.Raw) == 0 {
		return fmt.Sprintf("HTTP %d, empty body", r.Status)
	}
	more := ""
	if r.Truncated {
		more = "..."
	}
	return fmt.Sprintf("HTTP %d, body %q%s", r.Status, r.Raw, more)
}

// Want returns nil when the answer has the status want, else an error with the status
// and the raw body: an answer that is not payhook's JSON (a WAF 403 page, an empty body)
// still says what came back.
func (r Response) Want(status int) error {
	if r.Status == status {
		return nil
	}
	return fmt.Errorf("want HTTP %d, got %s", status, r)
}

// Client posts webhooks to a target.
type Client struct {
	HTTP   *http.Client
	Target *Target
}

// NewClient returns a client with a bounded timeout.
func NewClient(t *Target) *Client {
	return &Client{HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, Target: t}
}

// Payload builds a notification body.
func Payload(provider, id, amount, currency string) []byte {
	b, _ := json.Marshal(map[string]any{"transaction_id": id, "amount": amount, "currency": currency, "provider": provider,
		"metadata": map[string]any{"source": "payhook-probe"}})
	return b
}

// Send signs a flat notification for provider p (as the provider would) and posts it to
// the API-key route, or to the provider's own path when it is keyless.
func (c *Client) Send(ctx context.Context, p Provider, body []byte) (Response, error) {
	url := c.Target.Endpoint
	if p.Keyless {
		url += "/" + p.Name
	}
	return c.post(ctx, url, p, "", body)
}

// post signs body for p and posts it to url, with p's API key when it has one; id is the
// Standard Webhooks message id ("" for a fresh one).
func (c *Client) post(ctx context.Context, url string, p Provider, id string, body []byte) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.APIKey != "" {
		req.Header.Set("x-api-key", p.APIKey)
	}
	now := time.Now()
	switch signature.Scheme(p.Scheme) {
	case signature.StandardWebhooks:
		if id == "" {
			id = "msg_" + strconv.FormatInt(now.UnixNano(), 36)
		}
		sig, err := signature.SignStandard(p.Secret, id, now, body)
		if err != nil {
			return Response{}, fmt.Errorf("sign for %s: %w", p.Name, err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
	case signature.Stripe:
		req.Header.Set("Stripe-Signature", signature.SignStripe(p.Secret, now, body))
	}
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("post to %s: %w", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, fmt.Errorf("read the HTTP %d answer from %s: %w", resp.StatusCode, url, err)
	}
	r := Response{Status: resp.StatusCode, Latency: time.Since(start), Raw: bytes.Clone(raw[:min(len(raw), RawLimit)]),
		Truncated: len(raw) > RawLimit}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		r.Body = nil // not a JSON object: Raw says what it is
	}
	return r, nil
}

// WaitStatus polls the record until it has status want or the timeout passes.
func (c *Client) WaitStatus(ctx context.Context, provider, id, want string, timeout time.Duration) (*store.Transaction, error) {
	deadline := time.Now().Add(timeout)
	for {
		t, err := c.Target.Store.Get(ctx, provider, id)
		if err != nil {
			return nil, err
		}
		if t != nil && t.Status == want {
			return t, nil
		}
		if time.Now().After(deadline) {
			status := "absent"
			if t != nil {
				status = t.Status
			}
			return t, fmt.Errorf("%s/%s is %s after %s, want %s", provider, id, status, timeout, want)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Total reads a provider's total for a currency today (UTC).
func (c *Client) Total(ctx context.Context, provider, currency string) (store.DailyTotal, error) {
	totals, err := c.Target.Store.DailyTotals(ctx, provider, time.Now().UTC().Format(store.DayLayout))
	if err != nil {
		return store.DailyTotal{}, err
	}
	return totals[currency], nil
}
