// Package secrets fetches the providers' webhook signing secrets from AWS Secrets Manager
// and caches them.
//
// One secret per environment holds a JSON object mapping each provider to its current
// secrets (several during a rotation):
//
//	{"acme": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "stripe": ["whsec_..."]}
//
// Values are cached for TTL, a minute by default: a secret removed from the list (the end of a
// rotation, or a leaked one) stops verifying within a minute, at one GetSecretValue per warm
// function instance per minute ($0.05 per 10,000 calls). When a signature does not verify with cached values older
// than MinRefresh, the caller may ask for a Refresh, so a rotation is picked up at once
// without hammering Secrets Manager with every forged request. Secrets never appear in
// errors or logs.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/payhook/payhook/internal/contract"
)

// Getter is the one Secrets Manager call the cache needs.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Cache holds the decoded signing secrets of one Secrets Manager secret.
type Cache struct {
	// Client calls Secrets Manager.
	Client Getter
	// SecretID is the secret's ARN or name.
	SecretID string
	// TTL is how long fetched values are used (default DefaultTTL).
	TTL time.Duration
	// MinRefresh is the least age of cached values before Refresh fetches again
	// (default 30 s).
	MinRefresh time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	values  map[string][]string
	fetched time.Time
}

// DefaultTTL bounds how long a removed secret keeps verifying.
const DefaultTTL = time.Minute

// ErrUnavailable wraps a failure to read the secret: the caller answers 503, not 401.
var ErrUnavailable = errors.New("signing secrets unavailable")

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// For returns the secrets of provider, fetching when the cache is empty or stale. A
// provider without an entry gets an empty slice and no error.
func (c *Cache) For(ctx context.Context, provider string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if c.values == nil || c.now().Sub(c.fetched) >= ttl {
		if err := c.fetchLocked(ctx); err != nil {
			return nil, err
		}
	}
	return c.values[provider], nil
}

// Refresh re-reads the secret if the cached values are older than MinRefresh, and reports
// whether it did.
func (c *Cache) Refresh(ctx context.Context, _ string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	minAge := c.MinRefresh
	if minAge == 0 {
		minAge = 30 * time.Second
	}
	if c.values != nil && c.now().Sub(c.fetched) < minAge {
		return false, nil
	}
	return true, c.fetchLocked(ctx)
}

func (c *Cache) fetchLocked(ctx context.Context) error {
	out, err := c.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.SecretID)})
	if err != nil {
		return fmt.Errorf("%w: get secret value: %w", ErrUnavailable, err)
	}
	values, err := contract.DecodeSigningSecrets(aws.ToString(out.SecretString))
	if err != nil {
		// The error says nothing of the content: it is secret.
		return fmt.Errorf("%w: secret: %w", ErrUnavailable, err)
	}
	c.values = values
	c.fetched = c.now()
	return nil
}

// ByProvider reads some providers' secrets from their own Cache (the smoke provider's secret
// is a secret of its own, readable by the smoke test), every other one's from Default.
type ByProvider struct {
	Default *Cache
	Own     map[string]*Cache
}

func (b ByProvider) cache(provider string) *Cache {
	if c, ok := b.Own[provider]; ok {
		return c
	}
	return b.Default
}

// For returns the provider's secrets from its own cache, else from Default.
func (b ByProvider) For(ctx context.Context, provider string) ([]string, error) {
	return b.cache(provider).For(ctx, provider)
}

// Refresh re-reads only the secret that holds provider's: another secret's trouble never
// turns this provider's 401 into a 503.
func (b ByProvider) Refresh(ctx context.Context, provider string) (bool, error) {
	return b.cache(provider).Refresh(ctx, provider)
}
