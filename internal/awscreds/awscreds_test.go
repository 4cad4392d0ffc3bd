package awscreds

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noCredentials empties every source of the default chain for the test.
func noCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "PAYHOOK_USE_IMDS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_REGION", "eu-west-1")
}

// With nothing configured, Require says so quickly (no wait on the metadata endpoint) and
// without a reason; static credentials are enough.
func TestRequireWithoutAnyThenStatic(t *testing.T) {
	noCredentials(t)
	start := time.Now()
	err := Require(context.Background())
	var missing *MissingError
	require.True(t, errors.As(err, &missing), "got %v", err)
	assert.Empty(t, missing.Reason)
	assert.Equal(t, "no AWS credentials", err.Error())
	assert.Less(t, time.Since(start), Timeout, "no wait on the instance metadata endpoint")

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	assert.NoError(t, Require(context.Background()))
}

// A profile that does not exist is named in the reason: the operator sees what to fix.
func TestRequireNamesAMissingProfile(t *testing.T) {
	noCredentials(t)
	t.Setenv("AWS_PROFILE", "payhook-nope")
	err := Require(context.Background())
	var missing *MissingError
	require.True(t, errors.As(err, &missing), "got %v", err)
	assert.Contains(t, missing.Reason, "payhook-nope")
}
