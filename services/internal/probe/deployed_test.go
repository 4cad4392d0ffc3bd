package probe

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/contract"
)

// stackOutputsOf are a deployed payments stack's outputs, each value naming its output.
func stackOutputsOf() map[string]string {
	return map[string]string{
		contract.OutputAPIURL:         "https://abc.execute-api.eu-west-1.amazonaws.com/prod/webhooks",
		contract.OutputTableName:      "table-value",
		contract.OutputQueueURL:       "queue-value",
		contract.OutputDLQURL:         "dlq-value",
		contract.OutputTopicARN:       "topic-value",
		contract.OutputSecretARN:      "arn:real-secret",
		contract.OutputSmokeSecretARN: "arn:smoke-secret",
		contract.OutputSmokeAPIKeyID:  "smoke-key-id",
		// ApiKeyIds lists the smoke provider's key too; keyless stripe is absent.
		contract.OutputAPIKeyIDs: `{"acme":"acme-key-id","payhook-smoke":"smoke-key-id"}`,
	}
}

var (
	smoke  = Provider{Name: contract.SmokeProvider, Scheme: contract.SmokeScheme}
	acme   = Provider{Name: "acme", Scheme: "standard-webhooks"}
	stripe = Provider{Name: "stripe", Scheme: "stripe"}
)

func byName(c *deployedConfig) map[string]deployedProvider {
	out := map[string]deployedProvider{}
	for _, p := range c.Providers {
		out[p.Name] = p
	}
	return out
}

// Every output a probe variable carries is read, from the output the contract names for it,
// whether the outputs come from the stack or from the variables (the pipeline's smoke step).
func TestEveryProbeOutputIsReadFromItsOutput(t *testing.T) {
	read := map[string]func(*deployedConfig) string{
		contract.ProbeAPIURL:         func(c *deployedConfig) string { return c.Endpoint },
		contract.ProbeTable:          func(c *deployedConfig) string { return c.Table },
		contract.ProbeQueueURL:       func(c *deployedConfig) string { return c.QueueURL },
		contract.ProbeAPIKeyID:       func(c *deployedConfig) string { return byName(c)[contract.SmokeProvider].KeyID },
		contract.ProbeSmokeSecretARN: func(c *deployedConfig) string { return byName(c)[contract.SmokeProvider].SecretARN },
	}
	require.ElementsMatch(t, keysOf(contract.ProbeOutputs()), keysOf(read), "a probe variable this test does not check")

	t.Run("stack", func(t *testing.T) {
		out := stackOutputsOf()
		c, err := configFromOutputs("staging", out, []Provider{smoke, acme})
		require.NoError(t, err)
		for v, o := range contract.ProbeOutputs() {
			assert.Equal(t, out[o], read[v](c), "%s carries %s", v, o)
		}
	})
	t.Run("variables", func(t *testing.T) {
		vars := map[string]string{}
		for v := range contract.ProbeOutputs() {
			vars[v] = "value of " + v
		}
		c, err := configFromOutputs("staging", outputsFromVars(func(k string) string { return vars[k] }), []Provider{smoke})
		require.NoError(t, err)
		for v := range contract.ProbeOutputs() {
			assert.Equal(t, vars[v], read[v](c), v)
		}
	})
}

func TestOutputsFromVarsLeavesUnsetOnesOut(t *testing.T) {
	out := outputsFromVars(func(k string) string {
		if k == contract.ProbeTable {
			return "t"
		}
		return ""
	})
	assert.Equal(t, map[string]string{contract.OutputTableName: "t"}, out)
}

// A missing output is an error naming the output and the stack (and the variable that may
// carry it instead, when one does).
func TestMissingOutputNamesItAndTheStack(t *testing.T) {
	for _, tc := range []struct {
		output    string
		providers []Provider
		variable  string
	}{
		{contract.OutputAPIURL, []Provider{acme}, contract.ProbeAPIURL},
		{contract.OutputTableName, []Provider{acme}, contract.ProbeTable},
		{contract.OutputSmokeSecretARN, []Provider{smoke}, contract.ProbeSmokeSecretARN},
		{contract.OutputSmokeAPIKeyID, []Provider{smoke}, contract.ProbeAPIKeyID},
		{contract.OutputSecretARN, []Provider{acme}, ""},
	} {
		t.Run(tc.output, func(t *testing.T) {
			out := stackOutputsOf()
			delete(out, tc.output)
			_, err := configFromOutputs("staging", out, tc.providers)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "output "+tc.output)
			assert.Contains(t, err.Error(), "stack payhook-staging")
			if tc.variable != "" {
				assert.Contains(t, err.Error(), tc.variable)
			}
		})
	}
	// The real providers' secret is not needed to sign as the smoke provider alone, nor the
	// queue to probe.
	out := stackOutputsOf()
	delete(out, contract.OutputSecretARN)
	delete(out, contract.OutputQueueURL)
	_, err := configFromOutputs("staging", out, []Provider{smoke})
	assert.NoError(t, err)
}

// The smoke step signs as the smoke provider with its own key and secret: it never reads a
// real provider's, which it is not allowed to.
func TestSmokeReadsTheSmokeOutputs(t *testing.T) {
	out := stackOutputsOf()
	out[contract.OutputAPIKeyIDs] = `{"acme":"acme-key-id","payhook-smoke":"stale-id"}`
	c, err := configFromOutputs("staging", out, []Provider{smoke})
	require.NoError(t, err)
	require.Len(t, c.Providers, 1)
	p := c.Providers[0]
	assert.Equal(t, "smoke-key-id", p.KeyID, "SmokeApiKeyId, not ApiKeyIds")
	assert.Equal(t, "arn:smoke-secret", p.SecretARN, "SmokeSigningSecretArn, not SigningSecretArn")
	assert.False(t, p.Keyless)

	keys, sm := &fakeKeys{}, &fakeSecrets{values: map[string]string{
		"arn:smoke-secret": `{"payhook-smoke":"whsec_smoke"}`, "arn:real-secret": `{"acme":["whsec_acme"]}`}}
	resolved, err := c.resolve(context.Background(), keys, sm)
	require.NoError(t, err)
	assert.Equal(t, []string{"smoke-key-id"}, keys.asked)
	assert.Equal(t, []string{"arn:smoke-secret"}, sm.asked)
	assert.Equal(t, "value of smoke-key-id", resolved[0].APIKey)
	assert.Equal(t, "whsec_smoke", resolved[0].Secret)
}

// Real providers read ApiKeyIds and SigningSecretArn; one absent from ApiKeyIds is keyless.
func TestRealProvidersReadTheirOutputs(t *testing.T) {
	c, err := configFromOutputs("staging", stackOutputsOf(), []Provider{acme, stripe, smoke})
	require.NoError(t, err)
	got := byName(c)
	assert.Equal(t, deployedProvider{Provider: acme, KeyID: "acme-key-id", SecretARN: "arn:real-secret"}, got["acme"])
	stripeKeyless := stripe
	stripeKeyless.Keyless = true
	assert.Equal(t, deployedProvider{Provider: stripeKeyless, SecretARN: "arn:real-secret"}, got["stripe"])
	assert.Equal(t, "arn:smoke-secret", got[contract.SmokeProvider].SecretARN)

	keys, sm := &fakeKeys{}, &fakeSecrets{values: map[string]string{
		"arn:smoke-secret": `{"payhook-smoke":"whsec_smoke"}`, "arn:real-secret": `{"acme":["whsec_acme"],"stripe":"whsec_stripe"}`}}
	resolved, err := c.resolve(context.Background(), keys, sm)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"acme-key-id", "smoke-key-id"}, keys.asked, "no key for keyless stripe")
	assert.ElementsMatch(t, []string{"arn:real-secret", "arn:smoke-secret"}, sm.asked, "one read per secret")
	assert.Equal(t, []string{"whsec_acme", "whsec_stripe", "whsec_smoke"},
		[]string{resolved[0].Secret, resolved[1].Secret, resolved[2].Secret})
	assert.True(t, resolved[1].Keyless)

	// Without ApiKeyIds (the smoke step's variables) no provider is known to be keyless.
	out := stackOutputsOf()
	delete(out, contract.OutputAPIKeyIDs)
	c, err = configFromOutputs("staging", out, []Provider{stripe})
	require.NoError(t, err)
	assert.False(t, c.Providers[0].Keyless)

	out[contract.OutputAPIKeyIDs] = "not json"
	_, err = configFromOutputs("staging", out, []Provider{acme})
	assert.ErrorContains(t, err, contract.OutputAPIKeyIDs)
}

func TestResolveNamesTheProviderOnError(t *testing.T) {
	c, err := configFromOutputs("staging", stackOutputsOf(), []Provider{acme})
	require.NoError(t, err)
	_, err = c.resolve(context.Background(), &fakeKeys{err: errors.New("denied")}, &fakeSecrets{})
	assert.ErrorContains(t, err, "API key of acme (acme-key-id): denied")
	_, err = c.resolve(context.Background(), &fakeKeys{}, &fakeSecrets{})
	assert.ErrorContains(t, err, "signing secret of acme")
}

func TestStackOutputs(t *testing.T) {
	cfn := &fakeStacks{stacks: []cfntypes.Stack{{Outputs: []cfntypes.Output{
		{OutputKey: aws.String(contract.OutputAPIURL), OutputValue: aws.String("u")},
		{OutputKey: aws.String(contract.OutputTableName), OutputValue: aws.String("t")}}}}}
	out, err := stackOutputs(context.Background(), cfn, "payhook-staging")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{contract.OutputAPIURL: "u", contract.OutputTableName: "t"}, out)
	assert.Equal(t, "payhook-staging", cfn.asked)

	_, err = stackOutputs(context.Background(), &fakeStacks{}, "payhook-staging")
	assert.ErrorContains(t, err, "payhook-staging: 0 stacks")
	_, err = stackOutputs(context.Background(), &fakeStacks{err: errors.New("no such stack")}, "payhook-staging")
	assert.ErrorContains(t, err, "read outputs of payhook-staging: no such stack")
}

func TestProbeProvidersTakeTheirFormats(t *testing.T) {
	vars := map[string]string{contract.ProbeProviders: "acme:standard-webhooks,stripe:stripe",
		contract.ProbePayloadFormats: contract.FormatsSpec(map[string]contract.PayloadFormat{"stripe": {Format: contract.FormatStripe}})}
	got, err := probeProviders(func(k string) string { return vars[k] })
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Nil(t, got[0].Format)
	require.NotNil(t, got[1].Format)
	assert.Equal(t, contract.FormatStripe, got[1].Format.Format)

	_, err = probeProviders(func(string) string { return "" })
	assert.ErrorContains(t, err, contract.ProbeProviders+" is empty")
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type fakeKeys struct {
	asked []string
	err   error
}

func (f *fakeKeys) GetApiKey(_ context.Context, in *apigateway.GetApiKeyInput, _ ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.ApiKey))
	if f.err != nil {
		return nil, f.err
	}
	return &apigateway.GetApiKeyOutput{Value: aws.String("value of " + aws.ToString(in.ApiKey))}, nil
}

type fakeSecrets struct {
	values map[string]string
	asked  []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	id := aws.ToString(in.SecretId)
	f.asked = append(f.asked, id)
	v, ok := f.values[id]
	if !ok {
		return nil, errors.New("no such secret")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

type fakeStacks struct {
	stacks []cfntypes.Stack
	err    error
	asked  string
}

func (f *fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.asked = aws.ToString(in.StackName)
	if f.err != nil {
		return nil, f.err
	}
	return &cloudformation.DescribeStacksOutput{Stacks: f.stacks}, nil
}
