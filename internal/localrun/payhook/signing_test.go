package payhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/provision"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// provisionPayments provisions the payments fixture with payhook's hooks.
func provisionPayments(t *testing.T, prev *localrun.State) (*provision.Stack, []Provider) {
	t.Helper()
	tmpl := testenv.Template(t, "payhook-local-Payments.template.json")
	st := testenv.ProvisionTemplate(t, tmpl, provision.Options{Hooks: App{}.ProvisionHooks(prev)})
	providers, err := Providers(context.Background(), tmpl, st, testenv.Clients())
	require.NoError(t, err)
	return st, providers
}

func TestSigningSecretGeneratedPerProvider(t *testing.T) {
	// GIVEN the payments fixture, whose ingest function has PROVIDERS and a generated
	// SIGNING_SECRET_ARN
	// WHEN it is provisioned with payhook's hooks
	st, providers := provisionPayments(t, nil)

	// THEN the secret holds a secret per signed provider, in each scheme's format
	require.Len(t, st.Secrets, 1)
	out, err := testenv.Clients().SecretsManager.GetSecretValue(context.Background(),
		&secretsmanager.GetSecretValueInput{SecretId: aws.String(st.Secrets[0].ARN)})
	require.NoError(t, err)
	var doc map[string][]string
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &doc))
	require.Len(t, doc["acme"], 1)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(doc["acme"][0], "whsec_"))
	require.NoError(t, err)
	assert.Len(t, key, 24)
	require.Len(t, doc["stripe"], 1)
	assert.Regexp(t, `^whsec_[0-9a-f]{32}$`, doc["stripe"][0])
	assert.NotContains(t, doc, "legacy")
	require.Len(t, providers, 3)
	assert.Equal(t, Provider{Name: "acme", Scheme: "standard-webhooks", Secret: doc["acme"][0], SecretARN: st.Secrets[0].ARN}, providers[0])
	assert.Equal(t, "stripe", providers[1].Name)
	assert.Equal(t, Provider{Name: "legacy", Scheme: "none", SecretARN: st.Secrets[0].ARN}, providers[2])
}

func TestProvisionReusesProviderSecrets(t *testing.T) {
	_, providers := provisionPayments(t, &localrun.State{Providers: []localrun.StateProvider{
		{Name: "acme", Scheme: SchemeStandardWebhooks, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		{Name: "stripe", Scheme: SchemeStripe, Secret: "not-a-secret"},
	}})
	assert.Equal(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", providers[0].Secret)
	assert.Regexp(t, `^whsec_[0-9a-f]{32}$`, providers[1].Secret, "a malformed reused secret is replaced")
}

func TestOnlyPayhookServicesRun(t *testing.T) {
	st, _ := provisionPayments(t, nil)
	require.Len(t, st.Functions, 4)
	ingest, ok := FunctionByService(st, "ingest")
	require.True(t, ok)
	assert.Equal(t, "IngressHandlerFunctionA0B1C2D3", ingest.LogicalID)
	nf, ok := FunctionByService(st, "notifyfailures")
	require.True(t, ok, "dashes do not count")
	assert.Equal(t, "notify-failures", nf.Service)
	assert.Equal(t, "notifyfailures", ServiceDir(nf.Service))

	spec := ingest
	spec.Env = map[string]string{}
	assert.Contains(t, runsService(&spec), "no PAYHOOK_SERVICE environment variable")
}

func TestParseProviders(t *testing.T) {
	ps, err := ParseProviders("acme:standard-webhooks, stripe:stripe,legacy:none")
	require.NoError(t, err)
	assert.Equal(t, []Provider{{Name: "acme", Scheme: "standard-webhooks"}, {Name: "stripe", Scheme: "stripe"}, {Name: "legacy", Scheme: "none"}}, ps)
	for _, bad := range []string{"acme", "acme:hmac", "a:none,a:none", ":none"} {
		_, err := ParseProviders(bad)
		assert.Error(t, err, bad)
	}
	sw, err := NewProviderSecret(SchemeStandardWebhooks)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sw, "whsec_"))
	assert.Len(t, sw, len("whsec_")+32) // base64 of 24 bytes
	assert.True(t, validProviderSecret(SchemeStandardWebhooks, sw))
	st, err := NewProviderSecret(SchemeStripe)
	require.NoError(t, err)
	assert.Regexp(t, `^whsec_[0-9a-f]{32}$`, st)
}
