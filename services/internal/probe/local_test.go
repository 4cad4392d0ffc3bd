package probe

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/localstate"
)

// writeState writes s where Local reads it, as cmd/payhook-local does.
func writeState(t *testing.T, s *localstate.State) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "local.json")
	require.NoError(t, localstate.Write(path, s))
	return path
}

func localState(t *testing.T) *localstate.State {
	t.Helper()
	format, err := json.Marshal(contract.PayloadFormat{Format: contract.FormatStripe})
	require.NoError(t, err)
	return &localstate.State{Running: true, Stack: "payhook-local", Region: "eu-west-1",
		Endpoint: "http://127.0.0.1:4010/prod/webhooks", Live: true, Table: "payhook-local-table", QueueURL: "http://q/queue",
		Emulators: localstate.Emulators{DynamoDB: "http://d", SQS: "http://q", SecretsManager: "http://s"},
		Providers: []localstate.Provider{
			{Name: "acme", Scheme: "standard-webhooks", Secret: "whsec_acme", APIKey: "acme-key"},
			{Name: "stripe", Scheme: "stripe", Secret: "whsec_stripe", Format: format, Keyless: true},
			{Name: contract.SmokeProvider, Scheme: contract.SmokeScheme, Secret: "whsec_smoke", APIKey: "smoke-key"},
		}}
}

// Local reads the file local mode writes: every field the probes use comes through.
func TestLocalReadsTheStateFile(t *testing.T) {
	for k := range emulators.SDKEnv("", "", "", "") {
		t.Setenv(k, os.Getenv(k)) // Local sets them; restored after the test
	}
	t.Setenv(contract.ProbeProviders, "")
	target, err := Local(context.Background(), writeState(t, localState(t)))
	require.NoError(t, err)
	assert.Equal(t, "local", target.Env)
	assert.Equal(t, "http://127.0.0.1:4010/prod/webhooks", target.Endpoint)
	assert.True(t, target.Live)
	assert.Equal(t, "payhook-local-table", target.Store.Table)
	assert.Equal(t, "http://q/queue", target.QueueURL)
	assert.Equal(t, "http://d", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	assert.Equal(t, "eu-west-1", os.Getenv("AWS_REGION"))
	require.Len(t, target.Providers, 3)
	assert.Equal(t, Provider{Name: "acme", Scheme: "standard-webhooks", Secret: "whsec_acme", APIKey: "acme-key"}, target.Providers[0])
	stripe := target.Providers[1]
	assert.True(t, stripe.Keyless)
	require.NotNil(t, stripe.Format)
	assert.Equal(t, contract.FormatStripe, stripe.Format.Format)
	assert.Nil(t, target.Providers[0].Format, "a provider without a format posts flat notifications")

	// PAYHOOK_PROVIDERS narrows the providers, as the pipeline's smoke step does.
	t.Setenv(contract.ProbeProviders, contract.SmokeProvidersSpec())
	target, err = Local(context.Background(), writeState(t, localState(t)))
	require.NoError(t, err)
	require.Len(t, target.Providers, 1)
	assert.Equal(t, "smoke-key", target.Providers[0].APIKey)
}

func TestLocalRefusesAStateItCannotUse(t *testing.T) {
	t.Setenv(contract.ProbeProviders, "")
	missing := filepath.Join(t.TempDir(), "local.json")
	_, err := Local(context.Background(), missing)
	assert.ErrorContains(t, err, missing)

	s := localState(t)
	s.Running = false
	path := writeState(t, s)
	_, err = Local(context.Background(), path)
	assert.ErrorContains(t, err, "stopped")

	s = localState(t)
	s.Providers[1].Format = json.RawMessage(`{"format": 7}`)
	_, err = Local(context.Background(), writeState(t, s))
	assert.ErrorContains(t, err, "provider stripe: format")

	t.Setenv(contract.ProbeProviders, "other:stripe")
	_, err = Local(context.Background(), writeState(t, localState(t)))
	assert.ErrorContains(t, err, contract.ProbeProviders+" names other")
}
