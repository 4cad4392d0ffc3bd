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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/secrets"
	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
)

// Provider is a configured provider with the secret to sign its webhooks and, for a
// provider that posts events, its payload format.
type Provider struct {
	Name   string                  `json:"name"`
	Scheme string                  `json:"scheme"`
	Secret string                  `json:"secret,omitempty"`
	Format *contract.PayloadFormat `json:"format,omitempty"`
	// APIKey is the provider's own API key; "" for a keyless provider.
	APIKey string `json:"api_key,omitempty"`
	// Keyless providers post to their own path without an API key.
	Keyless bool `json:"keyless,omitempty"`
}

// LocalState is the part of .payhook/local.json (written by `mage local`, see
// internal/localrun.State) that the probes need.
type LocalState struct {
	Running   bool       `json:"running"`
	Stack     string     `json:"stack"`
	Region    string     `json:"region"`
	Endpoint  string     `json:"endpoint"`
	Providers []Provider `json:"providers"`
	Live      bool       `json:"live"`
	Table     string     `json:"table"`
	QueueURL  string     `json:"queue_url"`
	// Emulators are the endpoints that stand in for AWS.
	Emulators struct {
		DynamoDB       string `json:"dynamodb"`
		SQS            string `json:"sqs"`
		SecretsManager string `json:"secretsmanager"`
	} `json:"emulators"`
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

// ReadLocalState reads a local.json file.
func ReadLocalState(path string) (LocalState, error) {
	var s LocalState
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read local state (is `go run mage.go local` running?): %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode %s: %w", path, err)
	}
	return s, nil
}

// Local returns the target described by the local stack's state file, with the providers
// PAYHOOK_PROVIDERS names when it is set. It points this process's AWS SDK at the
// emulators, as local mode's functions are.
func Local(ctx context.Context, path string) (*Target, error) {
	s, err := ReadLocalState(path)
	if err != nil {
		return nil, err
	}
	if !s.Running {
		return nil, fmt.Errorf("%s says the local stack is stopped: start it with `go run mage.go local`", path)
	}
	for k, v := range emulators.SDKEnv(s.Region, s.Emulators.DynamoDB, s.Emulators.SQS, s.Emulators.SecretsManager) {
		os.Setenv(k, v)
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, err
	}
	providers, err := only(s.Providers, os.Getenv("PAYHOOK_PROVIDERS"))
	if err != nil {
		return nil, err
	}
	return &Target{Env: strings.TrimPrefix(s.Stack, "payhook-"), Endpoint: s.Endpoint, Providers: providers,
		Live: s.Live, Store: &store.Store{DB: config.DynamoDB(cfg), Table: s.Table}, QueueURL: s.QueueURL}, nil
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
			return nil, fmt.Errorf("PAYHOOK_PROVIDERS names %s, which the local stack does not have", w.Name)
		}
	}
	return out, nil
}

// Deployed returns the target of a deployed environment. Outputs come from the variables
// the pipeline's smoke step sets (contract.ProbeOutputs), else from the stack payhook-<env>;
// providers and their schemes from PAYHOOK_PROVIDERS ("acme:standard-webhooks,stripe:stripe").
// Each provider's API key is read by the id the outputs give (the smoke provider's, or
// ApiKeyIds'); a keyless provider has none.
func Deployed(ctx context.Context, env string) (*Target, error) {
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, err
	}
	out, err := deployedOutputs(ctx, cfg, env)
	if err != nil {
		return nil, err
	}
	providers, err := ParseProviders(os.Getenv(contract.ProbeProviders))
	if err != nil {
		return nil, err
	}
	formats, err := contract.ParseFormatsSpec(os.Getenv(contract.ProbePayloadFormats))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contract.ProbePayloadFormats, err)
	}
	for i, p := range providers {
		if f, ok := formats[p.Name]; ok {
			providers[i].Format = &f
		}
	}
	if err := readKeys(ctx, apigateway.NewFromConfig(cfg), out, providers); err != nil {
		return nil, err
	}
	// The same decoding ingest uses; one fetch serves every provider. The smoke provider
	// alone reads its own secret (the smoke step may read no other).
	secretARN := out[contract.OutputSecretARN]
	if len(providers) == 1 && providers[0].Name == contract.SmokeProvider && out[contract.OutputSmokeSecretARN] != "" {
		secretARN = out[contract.OutputSmokeSecretARN]
	}
	if secretARN == "" {
		return nil, fmt.Errorf("deployed target %s: no signing secret among its outputs", env)
	}
	cache := &secrets.Cache{Client: config.SecretsManager(cfg), SecretID: secretARN}
	for i, p := range providers {
		s, err := cache.For(ctx, p.Name)
		if err != nil {
			return nil, fmt.Errorf("read signing secrets of %s: %w", env, err)
		}
		if len(s) > 0 {
			providers[i].Secret = s[0]
		}
	}
	return &Target{Env: env, Endpoint: out[contract.OutputAPIURL], Providers: providers, Live: os.Getenv(contract.ProbeLive) == "true",
		Store: &store.Store{DB: config.DynamoDB(cfg), Table: out[contract.OutputTableName]}, QueueURL: out[contract.OutputQueueURL]}, nil
}

// deployedOutputs are the env's outputs, from the probe variables or the stack.
func deployedOutputs(ctx context.Context, cfg aws.Config, env string) (map[string]string, error) {
	out := map[string]string{}
	for v, o := range contract.ProbeOutputs() {
		out[o] = os.Getenv(v)
	}
	if out[contract.OutputAPIURL] == "" {
		stack := contract.StageName(env)
		res, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
		if err != nil {
			return nil, fmt.Errorf("read outputs of %s: %w", stack, err)
		}
		if len(res.Stacks) != 1 {
			return nil, fmt.Errorf("read outputs of %s: %d stacks", stack, len(res.Stacks))
		}
		for _, o := range res.Stacks[0].Outputs {
			out[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		}
	}
	for _, k := range []string{contract.OutputAPIURL, contract.OutputTableName} {
		if out[k] == "" {
			return nil, fmt.Errorf("deployed target %s: output %s missing", env, k)
		}
	}
	return out, nil
}

// KeyReader is the one API Gateway call the probes need.
type KeyReader interface {
	GetApiKey(ctx context.Context, in *apigateway.GetApiKeyInput, opts ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error)
}

// readKeys sets each provider's API key from the ids the outputs give.
func readKeys(ctx context.Context, api KeyReader, out map[string]string, providers []Provider) error {
	ids := map[string]string{}
	if s := out[contract.OutputAPIKeyIDs]; s != "" {
		if err := json.Unmarshal([]byte(s), &ids); err != nil {
			return fmt.Errorf("output %s: %w", contract.OutputAPIKeyIDs, err)
		}
	}
	if id := out[contract.OutputSmokeAPIKeyID]; id != "" {
		ids[contract.SmokeProvider] = id
	}
	for i, p := range providers {
		id := ids[p.Name]
		if id == "" {
			continue // keyless
		}
		key, err := api.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String(id), IncludeValue: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("read the API key of %s (%s): %w", p.Name, id, err)
		}
		providers[i].APIKey = aws.ToString(key.Value)
	}
	return nil
}

// DefaultStatePath is where `mage local` writes the local stack's state for tools.
const DefaultStatePath = ".payhook/local.json"

// TargetFlags registers the flags that choose a target on fs: -env (default $ENV, else
// "local") and -state (the local stack's state file, read only for env local). Pass their
// values to Find once fs is parsed.
func TargetFlags(fs *flag.FlagSet) (env, state *string) {
	def := os.Getenv("ENV")
	if def == "" {
		def = "local"
	}
	env = fs.String("env", def, "environment: local, or a deployed one (its stack outputs)")
	state = fs.String("state", DefaultStatePath, "local stack state file (env local)")
	return env, state
}

// Find returns the local stack's target for env "local", else the deployed env's.
func Find(ctx context.Context, env, statePath string) (*Target, error) {
	if env == "local" {
		return Local(ctx, statePath)
	}
	return Deployed(ctx, env)
}

// ParseProviders reads "name:scheme,name:scheme".
func ParseProviders(s string) ([]Provider, error) {
	spec, err := contract.ParseProvidersSpec(s)
	if err != nil {
		return nil, fmt.Errorf("PAYHOOK_PROVIDERS: %w", err)
	}
	if len(spec) == 0 {
		return nil, fmt.Errorf("PAYHOOK_PROVIDERS is empty: want name:scheme,...")
	}
	out := make([]Provider, 0, len(spec))
	for _, p := range spec {
		if _, err := signature.ParseScheme(p.Scheme); err != nil {
			return nil, fmt.Errorf("PAYHOOK_PROVIDERS: %w", err)
		}
		out = append(out, Provider{Name: p.Name, Scheme: p.Scheme})
	}
	return out, nil
}

// Response is one answer from the endpoint.
type Response struct {
	Status  int
	Body    map[string]any
	Latency time.Duration
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
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := Response{Status: resp.StatusCode, Latency: time.Since(start)}
	_ = json.Unmarshal(raw, &r.Body)
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
