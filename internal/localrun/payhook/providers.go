package payhook

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// Provider signature schemes, as spelled in the PROVIDERS variable.
const (
	SchemeStandardWebhooks = "standard-webhooks"
	SchemeStripe           = "stripe"
	SchemeNone             = "none"
)

// Provider is a webhook provider configured through a function's PROVIDERS variable.
type Provider struct {
	// Name is the provider's name ("acme").
	Name string
	// Scheme is its signature scheme (standard-webhooks, stripe or none).
	Scheme string
	// Secret is its local signing secret ("" for scheme none).
	Secret string
	// SecretARN is the ARN of the Secrets Manager secret holding it.
	SecretARN string
}

// ParseProviders parses a PROVIDERS value ("acme:standard-webhooks,stripe:stripe") into
// providers in the order written (contract.ParseProvidersSpec), and checks that each
// scheme is one that payhook verifies.
func ParseProviders(s string) ([]Provider, error) {
	spec, err := contract.ParseProvidersSpec(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contract.EnvProviders, err)
	}
	out := make([]Provider, 0, len(spec))
	for _, p := range spec {
		switch p.Scheme {
		case SchemeStandardWebhooks, SchemeStripe, SchemeNone:
		default:
			return nil, fmt.Errorf("%s entry %q: unknown scheme %q (want %s, %s or %s)",
				contract.EnvProviders, p.Name+":"+p.Scheme, p.Scheme, SchemeStandardWebhooks, SchemeStripe, SchemeNone)
		}
		out = append(out, Provider{Name: p.Name, Scheme: p.Scheme})
	}
	return out, nil
}

// NewProviderSecret generates a local signing secret for a scheme: "whsec_" followed by
// the base64 of 24 random bytes for Standard Webhooks (the key is the decoded bytes), or
// "whsec_" followed by 32 hex digits for Stripe (the key is the whole string). Scheme
// none has no secret.
func NewProviderSecret(scheme string) (string, error) {
	switch scheme {
	case SchemeStandardWebhooks:
		return "whsec_" + base64.StdEncoding.EncodeToString(randid.Bytes(24)), nil
	case SchemeStripe:
		return "whsec_" + hex.EncodeToString(randid.Bytes(16)), nil
	case SchemeNone:
		return "", nil
	default:
		return "", fmt.Errorf("no local secret format for scheme %q", scheme)
	}
}

// validProviderSecret reports whether a reused secret fits the scheme.
func validProviderSecret(scheme, secret string) bool {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return false
	}
	switch scheme {
	case SchemeStandardWebhooks:
		b, err := base64.StdEncoding.DecodeString(raw)
		return err == nil && len(b) >= 16
	case SchemeStripe:
		return len(raw) >= 16
	}
	return false
}

func mergeProviders(have, more []Provider) []Provider {
	for _, m := range more {
		dup := false
		for _, h := range have {
			dup = dup || h.Name == m.Name
		}
		if !dup {
			have = append(have, m)
		}
	}
	return have
}
