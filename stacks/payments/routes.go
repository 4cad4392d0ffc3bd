package payments

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/internal/contract"
)

// routes are the providers' own paths, <api.path>/<name>: keyless for those that cannot send
// an API key (keyless: true), keyed for those that post events with one. Each has its own
// method throttle and WAF rate rule, and its source addresses when the env file lists them.
// No {provider} catch-all: a provider without a path of its own has none.
func (b *builder) routes() []*webhookingress.Route {
	var out []*webhookingress.Route
	for _, p := range b.e.Providers {
		if !p.OwnPath() {
			continue
		}
		r := &webhookingress.Route{Name: jsii.String(p.Name), Keyless: jsii.Bool(p.Keyless)}
		if p.ThrottleRate > 0 {
			r.ThrottleRateLimit = jsii.Number(p.ThrottleRate)
		}
		if p.ThrottleBurst > 0 {
			r.ThrottleBurstLimit = jsii.Number(float64(p.ThrottleBurst))
		}
		if p.WAFRateLimit > 0 {
			r.WafRateLimit = jsii.Number(float64(p.WAFRateLimit))
		}
		for _, ip := range p.SourceIPs {
			r.SourceIps = append(r.SourceIps, jsii.String(ip))
		}
		out = append(out, r)
	}
	return out
}

// keyedProviders are the providers that hold an API key: every one but the keyless, and the
// smoke provider, whose key the pipeline's smoke step reads (never a real provider's).
func (b *builder) keyedProviders() []string {
	var out []string
	for _, p := range b.e.Providers {
		if !p.Keyless {
			out = append(out, p.Name)
		}
	}
	return append(out, contract.SmokeProvider)
}

// apiKeys are one key per keyed provider, each with a usage plan of its own (the env's
// throttle and daily quota): one sender can no longer spend another's quota.
func (b *builder) apiKeys() []*webhookingress.ApiKeySpec {
	var out []*webhookingress.ApiKeySpec
	for _, p := range b.keyedProviders() {
		out = append(out, &webhookingress.ApiKeySpec{Name: jsii.String(contract.APIKeyName(b.e.Name, p))})
	}
	return out
}

// bindKeys tags each key with its provider (the smoke role reads the smoke provider's alone)
// and tells ingest which key is whose (contract.EnvAPIKeys): a request that names a provider
// with another provider's key is refused, so a key is that provider's second factor.
func (b *builder) bindKeys(fn awslambda.Function) {
	var spec []*string
	providers := b.keyedProviders()
	slices.Sort(providers)
	for i, p := range providers {
		key := b.s.Ingress.ApiKeys[contract.APIKeyName(b.e.Name, p)]
		awscdk.Tags_Of(key).Add(jsii.String(contract.ProviderTag), jsii.String(p), nil)
		sep := ","
		if i == 0 {
			sep = ""
		}
		spec = append(spec, jsii.String(sep+p+":"), key.KeyId())
	}
	fn.AddEnvironment(jsii.String(contract.EnvAPIKeys), awscdk.Fn_Join(jsii.String(""), &spec), nil)
}

// keyIDs is the JSON object of each keyed provider's API key id.
func (b *builder) keyIDs() *string {
	providers := b.keyedProviders()
	ids := make([]*string, len(providers))
	for i, p := range providers {
		ids[i] = b.s.Ingress.ApiKeys[contract.APIKeyName(b.e.Name, p)].KeyId()
	}
	return jsonObject(providers, ids)
}
