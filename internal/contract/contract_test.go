package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPinnedToolsMatchTheManifests ties the versions the pipeline pins to the ones the
// repository builds with: the CDK CLI in package.json, Go in go.mod's go directive.
func TestPinnedToolsMatchTheManifests(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "package.json"))
	require.NoError(t, err)
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	require.NoError(t, json.Unmarshal(b, &pkg))
	assert.Equal(t, CDKCLIVersion, pkg.DevDependencies["aws-cdk"], "contract.CDKCLIVersion vs package.json")

	b, err = os.ReadFile(filepath.Join("..", "..", PipelineCLISource, "package-lock.json"))
	require.NoError(t, err)
	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(b, &lock))
	for name, want := range map[string]string{"aws-cdk": CDKCLIVersion, "cdk-assets": CDKAssetsVersion} {
		p := lock.Packages["node_modules/"+name]
		assert.Equal(t, want, p.Version, "%s in %s/package-lock.json", name, PipelineCLISource)
		assert.NotEmpty(t, p.Integrity, "%s is locked by its integrity hash", name)
	}

	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	require.NotNil(t, m, "go directive in go.mod")
	assert.Equal(t, GoToolchain, "go"+string(m[1]), "contract.GoToolchain vs go.mod")
}

func TestProvidersSpecRoundTrip(t *testing.T) {
	list := []Provider{{"acme", "standard-webhooks"}, {"stripe", "stripe"}, {"legacy", "none"}}
	spec := ProvidersSpec(list)
	assert.Equal(t, "acme:standard-webhooks,stripe:stripe,legacy:none", spec)
	got, err := ParseProvidersSpec(spec)
	require.NoError(t, err)
	assert.Equal(t, list, got)
	got, err = ParseProvidersSpec(" acme:none , ")
	require.NoError(t, err)
	assert.Equal(t, []Provider{{"acme", "none"}}, got)
	for _, bad := range []string{"acme", "acme:", ":none", "a:none,a:stripe"} {
		_, err := ParseProvidersSpec(bad)
		assert.Error(t, err, bad)
	}
}

func TestNames(t *testing.T) {
	assert.Equal(t, "payhook-prod", StageName("prod"))
	assert.Equal(t, "payhook/prod/signing-secrets", SigningSecretName("prod"))
}

func TestPartition(t *testing.T) {
	assert.Equal(t, "aws", Partition("us-east-1"))
	assert.Equal(t, "aws", Partition(""))
	assert.Equal(t, "aws-cn", Partition("cn-north-1"))
	assert.Equal(t, "aws-us-gov", Partition("us-gov-west-1"))
}

func TestFormatsSpecRoundTrip(t *testing.T) {
	formats := map[string]PayloadFormat{
		"stripe": {Format: FormatStripe},
		"acme": {Format: FormatStandardWebhooks, Mapping: &Mapping{TransactionID: "/data/id", Amount: "/data/amount",
			AmountUnit: UnitMinor, Currency: "/data/currency", Credit: []string{"paid"}, Debit: []string{"refunded"}}},
		"flat": {Format: FormatPayhook},
	}
	spec := FormatsSpec(formats)
	assert.Equal(t, `{"acme":{"format":"standard-webhooks","mapping":{"transaction_id":"/data/id","amount":"/data/amount",`+
		`"amount_unit":"minor","currency":"/data/currency","credit":["paid"],"debit":["refunded"]}},"stripe":{"format":"stripe"}}`, spec,
		"sorted by provider, flat providers left out")
	got, err := ParseFormatsSpec(spec)
	require.NoError(t, err)
	assert.Equal(t, map[string]PayloadFormat{"stripe": formats["stripe"].WithDefaults(), "acme": formats["acme"].WithDefaults()}, got,
		"read back with Stripe's default choices and the default debit amount")
	assert.Equal(t, "{}", FormatsSpec(map[string]PayloadFormat{"flat": {}}))
	for _, bad := range []string{`[]`, `{"s":{"format":"stripe","credit_on":"x"}}`, `{"s":{"format":"stripe","mapping":{}}}`, `{"s":{"fmt":"stripe"}}`} {
		_, err := ParseFormatsSpec(bad)
		assert.Error(t, err, bad)
	}
}
