package secrets_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/secretsemu"
	"github.com/payhook/payhook/services/internal/secrets"
)

// The caches read real Secrets Manager API calls from payhook's local endpoint.
func client(t *testing.T) *secretsmanager.Client {
	t.Helper()
	srv, err := secretsemu.Start("127.0.0.1:0", "us-east-1", "000000000000")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return secretsmanager.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func create(t *testing.T, c *secretsmanager.Client, name, value string) string {
	t.Helper()
	out, err := c.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	require.NoError(t, err)
	return aws.ToString(out.ARN)
}

func TestByProviderReadsAndRefreshesOnlyTheProvidersOwnSecret(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	main := create(t, c, "main", `{"acme": ["whsec_a1", "whsec_a2"]}`)
	// The smoke secret as CloudFormation generates it: one string, not a list.
	smoke := create(t, c, "smoke", `{"payhook-smoke": "AbCdEf0123456789AbCdEf0123456789"}`)
	src := secrets.ByProvider{
		Default: &secrets.Cache{Client: c, SecretID: main, MinRefresh: time.Nanosecond},
		Own:     map[string]*secrets.Cache{"payhook-smoke": {Client: c, SecretID: smoke, MinRefresh: time.Nanosecond}},
	}
	got, err := src.For(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, []string{"whsec_a1", "whsec_a2"}, got)
	got, err = src.For(ctx, "payhook-smoke")
	require.NoError(t, err)
	assert.Equal(t, []string{"AbCdEf0123456789AbCdEf0123456789"}, got)

	// A smoke secret that cannot be read affects the smoke provider only.
	broken := secrets.ByProvider{Default: src.Default,
		Own: map[string]*secrets.Cache{"payhook-smoke": {Client: c, SecretID: "missing"}}}
	_, err = broken.Refresh(ctx, "acme")
	assert.NoError(t, err, "acme's refresh never reads the smoke secret")
	_, err = broken.Refresh(ctx, "payhook-smoke")
	assert.ErrorIs(t, err, secrets.ErrUnavailable)
}

// TestRemovedSecretStopsVerifyingWithinAMinute: a secret taken out of the list is no longer
// returned once DefaultTTL has passed, even though nothing failed to prompt a refresh.
func TestRemovedSecretStopsVerifyingWithinAMinute(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	arn := create(t, c, "rotating", `{"acme": ["whsec_old", "whsec_new"]}`)
	at := time.Unix(1_700_000_000, 0)
	cache := &secrets.Cache{Client: c, SecretID: arn, Now: func() time.Time { return at }}
	got, err := cache.For(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{"whsec_old", "whsec_new"}, got)
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(`{"acme": ["whsec_new"]}`)})
	require.NoError(t, err)
	at = at.Add(secrets.DefaultTTL - time.Second)
	got, _ = cache.For(ctx, "acme")
	assert.Contains(t, got, "whsec_old", "still cached just under a minute")
	at = at.Add(time.Second)
	got, err = cache.For(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, []string{"whsec_new"}, got, "gone after a minute")
	assert.LessOrEqual(t, secrets.DefaultTTL, time.Minute)
}
