package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/secrets"
	"github.com/payhook/payhook/services/internal/store"
)

// Deployed returns the target of a deployed environment. Its outputs come from the variables
// the pipeline's smoke step sets (contract.ProbeOutputs), else from the stack payhook-<env>;
// its providers and their schemes from PAYHOOK_PROVIDERS ("acme:standard-webhooks,stripe:stripe"),
// their formats from PAYHOOK_PAYLOAD_FORMATS. Each provider's API key and signing secret are
// then read where the outputs say (configFromOutputs): the smoke provider's from its own.
func Deployed(ctx context.Context, env string) (*Target, error) {
	providers, err := probeProviders(os.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("deployed target %s: %w", env, err)
	}
	out := outputsFromVars(os.Getenv)
	if out[contract.OutputAPIURL] == "" {
		if out, err = stackOutputs(ctx, cloudformation.NewFromConfig(cfg), contract.StageName(env)); err != nil {
			return nil, err
		}
	}
	dc, err := configFromOutputs(env, out, providers)
	if err != nil {
		return nil, err
	}
	resolved, err := dc.resolve(ctx, apigateway.NewFromConfig(cfg), config.SecretsManager(cfg))
	if err != nil {
		return nil, fmt.Errorf("deployed target %s: %w", env, err)
	}
	return &Target{Env: env, Endpoint: dc.Endpoint, Providers: resolved, Live: os.Getenv(contract.ProbeLive) == "true",
		Store: &store.Store{DB: config.DynamoDB(cfg), Table: dc.Table}, QueueURL: dc.QueueURL}, nil
}

// probeProviders are the providers PAYHOOK_PROVIDERS names, each with the format
// PAYHOOK_PAYLOAD_FORMATS gives it.
func probeProviders(getenv func(string) string) ([]Provider, error) {
	providers, err := ParseProviders(getenv(contract.ProbeProviders))
	if err != nil {
		return nil, err
	}
	formats, err := contract.ParseFormatsSpec(getenv(contract.ProbePayloadFormats))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contract.ProbePayloadFormats, err)
	}
	for i, p := range providers {
		if f, ok := formats[p.Name]; ok {
			providers[i].Format = &f
		}
	}
	return providers, nil
}

// outputsFromVars are the outputs the probe variables carry (contract.ProbeOutputs), by
// output key; unset variables are left out.
func outputsFromVars(getenv func(string) string) map[string]string {
	out := map[string]string{}
	for v, o := range contract.ProbeOutputs() {
		if val := getenv(v); val != "" {
			out[o] = val
		}
	}
	return out
}

// StackDescriber is the one CloudFormation call the probes need.
type StackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// stackOutputs are the outputs of stack, by output key.
func stackOutputs(ctx context.Context, cfn StackDescriber, stack string) (map[string]string, error) {
	res, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("read outputs of %s: %w", stack, err)
	}
	if len(res.Stacks) != 1 {
		return nil, fmt.Errorf("read outputs of %s: %d stacks", stack, len(res.Stacks))
	}
	out := map[string]string{}
	for _, o := range res.Stacks[0].Outputs {
		out[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return out, nil
}

// deployedConfig is a deployed target as its outputs describe it, before its providers' API
// keys and signing secrets are read.
type deployedConfig struct {
	// Endpoint is the webhook URL (ApiUrl), Table the table, QueueURL the accounting queue
	// ("" when the outputs do not give it: replay needs it, smoke and loadtest do not).
	Endpoint, Table, QueueURL string
	// Providers are the providers to sign as, with where their key and secret are.
	Providers []deployedProvider
}

// deployedProvider is a provider of a deployed target with where its API key and signing
// secret are.
type deployedProvider struct {
	Provider
	// KeyID is the id of the provider's API key; "" for a keyless provider (Keyless is set
	// when the outputs list every keyed provider's key, ApiKeyIds).
	KeyID string
	// SecretARN is the secret that holds the provider's signing secret.
	SecretARN string
}

// configFromOutputs maps a deployed env's outputs (by output key, contract.Output*) to the
// probes' configuration. The smoke provider's key and secret are its own outputs
// (SmokeApiKeyId, SmokeSigningSecretArn), the only ones the pipeline's smoke step may read;
// every other provider's are ApiKeyIds' and SigningSecretArn. An output the providers need
// that is missing is an error naming it and the stack.
func configFromOutputs(env string, out map[string]string, providers []Provider) (*deployedConfig, error) {
	stack := contract.StageName(env)
	need := func(key string) (string, error) {
		if v := out[key]; v != "" {
			return v, nil
		}
		return "", missingOutput(env, stack, key)
	}
	c := &deployedConfig{QueueURL: out[contract.OutputQueueURL]}
	var err error
	if c.Endpoint, err = need(contract.OutputAPIURL); err != nil {
		return nil, err
	}
	if c.Table, err = need(contract.OutputTableName); err != nil {
		return nil, err
	}
	ids, known, err := keyIDs(out)
	if err != nil {
		return nil, fmt.Errorf("deployed target %s: stack %s: %w", env, stack, err)
	}
	for _, p := range providers {
		dp := deployedProvider{Provider: p, KeyID: ids[p.Name]}
		secret := contract.OutputSecretARN
		if p.Name == contract.SmokeProvider {
			secret = contract.OutputSmokeSecretARN
			if dp.KeyID, err = need(contract.OutputSmokeAPIKeyID); err != nil {
				return nil, err
			}
		}
		if dp.SecretARN, err = need(secret); err != nil {
			return nil, err
		}
		dp.Keyless = known && dp.KeyID == ""
		c.Providers = append(c.Providers, dp)
	}
	return c, nil
}

// keyIDs are the API key ids ApiKeyIds gives by provider; known is whether the outputs have
// it, which lists every keyed provider (a provider absent from it is keyless).
func keyIDs(out map[string]string) (ids map[string]string, known bool, err error) {
	ids = map[string]string{}
	s := out[contract.OutputAPIKeyIDs]
	if s == "" {
		return ids, false, nil
	}
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, false, fmt.Errorf("output %s: %w", contract.OutputAPIKeyIDs, err)
	}
	return ids, true, nil
}

// missingOutput is the error of an output the target needs and lacks, naming the probe
// variable that may carry it instead.
func missingOutput(env, stack, key string) error {
	for v, o := range contract.ProbeOutputs() {
		if o == key {
			return fmt.Errorf("deployed target %s: stack %s has no output %s (nor is %s set)", env, stack, key, v)
		}
	}
	return fmt.Errorf("deployed target %s: stack %s has no output %s", env, stack, key)
}

// KeyReader is the one API Gateway call the probes need.
type KeyReader interface {
	GetApiKey(ctx context.Context, in *apigateway.GetApiKeyInput, opts ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error)
}

// resolve reads each provider's API key and signing secret where c says they are: one
// GetApiKey per keyed provider, one GetSecretValue per secret (decoded as ingest does).
func (c *deployedConfig) resolve(ctx context.Context, keys KeyReader, sm secrets.Getter) ([]Provider, error) {
	caches := map[string]*secrets.Cache{}
	out := make([]Provider, 0, len(c.Providers))
	for _, dp := range c.Providers {
		p := dp.Provider
		if dp.KeyID != "" {
			key, err := keys.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String(dp.KeyID), IncludeValue: aws.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("read the API key of %s (%s): %w", p.Name, dp.KeyID, err)
			}
			p.APIKey = aws.ToString(key.Value)
		}
		cache := caches[dp.SecretARN]
		if cache == nil {
			cache = &secrets.Cache{Client: sm, SecretID: dp.SecretARN}
			caches[dp.SecretARN] = cache
		}
		s, err := cache.For(ctx, p.Name)
		if err != nil {
			return nil, fmt.Errorf("read the signing secret of %s: %w", p.Name, err)
		}
		if len(s) > 0 {
			p.Secret = s[0]
		}
		out = append(out, p)
	}
	return out, nil
}
