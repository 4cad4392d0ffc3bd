package localstack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Provider signature schemes, as spelled in the PROVIDERS variable.
const (
	SchemeStandardWebhooks = "standard-webhooks"
	SchemeStripe           = "stripe"
	SchemeNone             = "none"
)

// ParseProviders parses a PROVIDERS value ("acme:standard-webhooks,stripe:stripe") into
// providers in the order written, as envconfig reads it into the ingest service's map.
func ParseProviders(s string) ([]Provider, error) {
	var out []Provider
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, scheme, ok := strings.Cut(part, ":")
		if !ok || name == "" || scheme == "" {
			return nil, fmt.Errorf("PROVIDERS entry %q: want name:scheme", part)
		}
		switch scheme {
		case SchemeStandardWebhooks, SchemeStripe, SchemeNone:
		default:
			return nil, fmt.Errorf("PROVIDERS entry %q: unknown scheme %q (want %s, %s or %s)",
				part, scheme, SchemeStandardWebhooks, SchemeStripe, SchemeNone)
		}
		if seen[name] {
			return nil, fmt.Errorf("PROVIDERS: provider %q appears twice", name)
		}
		seen[name] = true
		out = append(out, Provider{Name: name, Scheme: scheme})
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
		b, err := randomBytes(24)
		if err != nil {
			return "", err
		}
		return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
	case SchemeStripe:
		b, err := randomBytes(16)
		if err != nil {
			return "", err
		}
		return "whsec_" + hex.EncodeToString(b), nil
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

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random bytes: %w", err)
	}
	return b, nil
}

const (
	alnum       = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum  = "abcdefghijklmnopqrstuvwxyz0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) (string, error) {
	if alphabet == "" {
		return "", fmt.Errorf("random string: empty alphabet")
	}
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("random string: %w", err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String(), nil
}

// passwordSpec is the part of GenerateSecretString that shapes the password.
type passwordSpec struct {
	Length                                                 int
	Exclude                                                string
	NoPunctuation, NoNumbers, NoUpper, NoLower, AllowSpace bool
}

func (p passwordSpec) generate() (string, error) {
	var alphabet strings.Builder
	add := func(set string, skip bool) {
		if skip {
			return
		}
		for _, c := range set {
			if !strings.ContainsRune(p.Exclude, c) {
				alphabet.WriteRune(c)
			}
		}
	}
	add("abcdefghijklmnopqrstuvwxyz", p.NoLower)
	add("ABCDEFGHIJKLMNOPQRSTUVWXYZ", p.NoUpper)
	add("0123456789", p.NoNumbers)
	add(punctuation, p.NoPunctuation)
	add(" ", !p.AllowSpace)
	n := p.Length
	if n <= 0 {
		n = 32
	}
	return randomString(n, alphabet.String())
}
