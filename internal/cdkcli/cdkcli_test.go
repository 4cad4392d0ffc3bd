package cdkcli

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/secretsemu"
)

// TestRequireCredentialsWithoutAny: with no credentials anywhere, deploy and diff stop with
// ErrNoCredentials (a message saying what to set), quickly and without network calls.
func TestRequireCredentialsWithoutAny(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "PAYHOOK_USE_IMDS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	err := RequireCredentials(context.Background())
	assert.True(t, errors.Is(err, ErrNoCredentials), "got %v", err)
	assert.Contains(t, err.Error(), "AWS_PROFILE")

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	assert.NoError(t, RequireCredentials(context.Background()), "static credentials are enough to try")
}

// TestDeleteSecretsNowFreesTheName: against the Secrets Manager emulator, a secret deleted
// with a recovery window (as a stack deletion may leave it) blocks its name; DeleteSecretsNow
// frees it, and succeeds for a name that is already gone.
func TestDeleteSecretsNowFreesTheName(t *testing.T) {
	srv, err := secretsemu.Start("127.0.0.1:0", "us-east-1", "000000000000")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	ctx := context.Background()
	cfg, err := loadCredentials(ctx)
	require.NoError(t, err)
	cfg.Region = "us-east-1"
	client := secretsmanager.NewFromConfig(cfg)
	name := "payhook/dev-pr-42/signing-secrets"
	_, err = client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")})
	require.NoError(t, err)
	_, err = client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name)})
	require.NoError(t, err)
	_, err = client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")})
	require.ErrorContains(t, err, "scheduled for deletion", "a recovery window blocks the name")

	require.NoError(t, DeleteSecretsNow(ctx, "us-east-1", name, "payhook/dev-pr-42/never-made"))
	_, err = client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")})
	assert.NoError(t, err, "the name is free again")
}
