package tests

import (
	"go/ast"
	"go/parser"
	"go/token"
	iofs "io/fs"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/iam"
)

// configTags reads the envconfig tags of the Config struct of a service (package main, so
// read from source): variable name → required.
func configTags(t *testing.T, service string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join("..", "services", service), func(fi iofs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	require.NoError(t, err)
	tags := map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || ts.Name.Name != "Config" {
					return true
				}
				for _, field := range ts.Type.(*ast.StructType).Fields.List {
					if field.Tag == nil {
						continue
					}
					raw, _ := strconv.Unquote(field.Tag.Value)
					tag := reflect.StructTag(raw)
					if name := tag.Get("envconfig"); name != "" {
						tags[name] = tag.Get("required") == "true"
					}
				}
				return false
			})
		}
	}
	require.NotEmpty(t, tags, "no Config in services/%s", service)
	return tags
}

// TestServicesReadWhatTheStackSets ties each service's configuration to the variables the
// payments stack sets on its function, in every env: nothing required is missing, nothing
// set is ignored, and every name is spelled as internal/contract spells it.
func TestServicesReadWhatTheStackSets(t *testing.T) {
	known := map[string]bool{}
	for _, n := range []string{contract.EnvTableName, contract.EnvQueueURL, contract.EnvSigningSecretARN, contract.EnvSmokeSigningSecretARN, contract.EnvProviders,
		contract.EnvMaxBodyBytes, contract.EnvAlertTopicARN, contract.EnvUnaccountedAfter, contract.EnvPayhookEnv, contract.EnvPayhookService,
		contract.EnvPayloadFormats, contract.EnvLive, contract.EnvAPIKeys, contract.EnvOutboxGrace} {
		known[n] = true
	}
	optional := map[string]bool{"OUTBOX_LIMIT": true} // a tuning knob with a default, unset by the stack
	for name := range synthesized.templates {
		for _, raw := range synthesized.templates[name]["Resources"].(map[string]any) {
			r := raw.(map[string]any)
			if r["Type"] != "AWS::Lambda::Function" {
				continue
			}
			vars := r["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
			service, _ := vars[contract.EnvPayhookService].(string)
			require.NotEmpty(t, service, "%s: a function without %s", name, contract.EnvPayhookService)
			tags := configTags(t, service)
			var set []string
			for v := range vars {
				set = append(set, v)
				assert.True(t, known[v], "%s/%s: %s is not a contract name", name, service, v)
				if v != contract.EnvPayhookService { // read by local mode, not the service
					_, read := tags[v]
					assert.True(t, read, "%s/%s: the stack sets %s, the service never reads it", name, service, v)
				}
			}
			sort.Strings(set)
			for v, required := range tags {
				assert.True(t, known[v] || optional[v], "%s: %s is not a contract name", service, v)
				if required {
					assert.Contains(t, set, v, "%s/%s: required %s is not set by the stack", name, service, v)
				}
			}
		}
	}
}

// TestLocalAccountIsTheEmulatorsAccount: a local-only env's stack names the account local
// mode resolves AWS::AccountId to, so its literal ARNs match the emulated resources'.
func TestLocalAccountIsTheEmulatorsAccount(t *testing.T) {
	assert.Equal(t, cfn.LocalAccount, contract.LocalAccount)
	for _, e := range synthesized.envs {
		if e.LocalOnly {
			assert.Equal(t, contract.LocalAccount, *synthesized.built.Stages[e.Name].Payments.Account(), e.Name)
		}
	}
}

// TestConstructsAndLocalModeShareTheirNames ties the grants metadata key the constructs own
// to local mode's copy, and checks that no name the constructs put in a consumer's template
// (metadata keys, warning ids) is payhook's.
func TestConstructsAndLocalModeShareTheirNames(t *testing.T) {
	assert.Equal(t, alarmedfunction.UnexercisedGrantsMetadata, iam.UnexercisedGrantsMetadata)
	// The constructs' module imports nothing of payhook's: its copies of AWS's limits and
	// of the poller's actions are tied to the contract's and local mode's here.
	assert.Equal(t, contract.SQSVisibilityFactor, queuedworker.VisibilityTimeoutFactor)
	assert.Equal(t, contract.APIGatewayIntegrationTimeoutSeconds, webhookingress.IntegrationTimeoutSeconds)
	assert.Equal(t, iam.LambdaSQSPollActions, queuedworker.PollActions())
	assert.NotContains(t, alarmedfunction.UnexercisedGrantsMetadata, "payhook")
	assert.NotContains(t, webhookingress.HandlerTimeoutWarning, "payhook")
	for _, env := range synthesized.envs {
		tmpl := synthesized.templates[env.Name]
		found := false
		for _, r := range tmpl["Resources"].(map[string]any) {
			md, _ := r.(map[string]any)["Metadata"].(map[string]any)
			if _, ok := md[iam.UnexercisedGrantsMetadata]; ok {
				found = true
			}
			for k := range md {
				assert.False(t, strings.HasPrefix(k, "payhook:"), "%s: metadata key %s names payhook", env.Name, k)
			}
		}
		assert.True(t, found, "%s: local mode finds the grants metadata under its key", env.Name)
	}
}

// TestConstructsModuleDependsOnNothingOfPayhook: what another team imports holds no package
// of payhook's root module (internal or services) and no AWS SDK, stripe or mage.
func TestConstructsModuleDependsOnNothingOfPayhook(t *testing.T) {
	out, err := exec.Command("go", "-C", "../constructs", "list", "-deps", "./...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/payhook/payhook/constructs/queuedworker")
	for _, d := range deps {
		for _, banned := range []string{"github.com/payhook/payhook/internal", "github.com/payhook/payhook/services",
			"github.com/aws/aws-sdk-go-v2", "github.com/stripe", "github.com/magefile"} {
			assert.False(t, strings.HasPrefix(d, banned), "the constructs module depends on %s", d)
		}
	}
}
