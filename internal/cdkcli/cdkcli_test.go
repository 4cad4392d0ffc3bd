package cdkcli

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
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
