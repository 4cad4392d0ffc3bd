package probe

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/emulators"
)

// keepSDKEnv restores, after the test, the variables FindTable and Local may set.
func keepSDKEnv(t *testing.T) {
	for k := range emulators.SDKEnv("", "", "", "") {
		t.Setenv(k, os.Getenv(k))
	}
	for _, k := range []string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "PAYHOOK_USE_IMDS", contract.ProbeTable, contract.ProbeProviders} {
		t.Setenv(k, "")
	}
}

// The local table is the state file's, with the names of its providers.
func TestFindTableLocal(t *testing.T) {
	keepSDKEnv(t)
	tb, err := FindTable(context.Background(), "local", writeState(t, localState(t)))
	require.NoError(t, err)
	assert.Equal(t, "local", tb.Env)
	assert.Equal(t, "payhook-local-table", tb.Store.Table)
	assert.Equal(t, []string{"acme", "stripe", contract.SmokeProvider}, tb.Providers)
}

// A deployed env without AWS credentials is one line saying what to set, not the SDK's
// error on the first call; nothing is called.
func TestFindTableWithoutCredentialsSaysWhatToSet(t *testing.T) {
	keepSDKEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "http://127.0.0.1:1") // a call would fail otherwise
	_, err := FindTable(context.Background(), "prod", "")
	require.True(t, errors.Is(err, ErrNoCredentials), "got %v", err)
	msg := err.Error()
	assert.False(t, strings.Contains(msg, "\n"), "one line: %q", msg)
	for _, want := range []string{"no AWS credentials for env prod", "AWS_PROFILE", "-env local"} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "operation error", "no SDK call was made")
}

// With credentials, a deployed env's table comes from PAYHOOK_TABLE when it is set (no
// stack read, no API key, no secret), its providers from PAYHOOK_PROVIDERS, else none.
func TestFindTableDeployedFromVariables(t *testing.T) {
	keepSDKEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv(contract.ProbeTable, "payhook-prod-table")
	t.Setenv(contract.ProbeQueueURL, "https://sqs.eu-west-1.amazonaws.com/222222222222/payhook-prod-queue")
	tb, err := FindTable(context.Background(), "prod", "")
	require.NoError(t, err)
	assert.Equal(t, "prod", tb.Env)
	assert.Equal(t, "payhook-prod-table", tb.Store.Table)
	assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/222222222222/payhook-prod-queue", tb.QueueURL)
	assert.Nil(t, tb.Providers)

	t.Setenv(contract.ProbeProviders, "acme:standard-webhooks,stripe:stripe")
	tb, err = FindTable(context.Background(), "prod", "")
	require.NoError(t, err)
	assert.Equal(t, []string{"acme", "stripe"}, tb.Providers)
}
