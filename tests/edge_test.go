package tests

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/iam"
)

// edge is one env's template, read for the request path in front of ingest.
type edge struct {
	e     envs.Env
	rs    []resource
	model *cfn.Template
}

func edgeOf(t *testing.T, e envs.Env) edge {
	t.Helper()
	b, err := json.Marshal(synthesized.templates[e.Name])
	require.NoError(t, err)
	model, err := cfn.Parse(e.Name, b)
	require.NoError(t, err)
	return edge{e: e, rs: resources(t, e.Name), model: model}
}

// wafRules are the WebACL's rules by name.
func (g edge) wafRules(t *testing.T) map[string]map[string]any {
	acl := one(t, g.rs, "AWS::WAFv2::WebACL")
	out := map[string]map[string]any{}
	for _, r := range acl.Props["Rules"].([]any) {
		r := r.(map[string]any)
		out[r["Name"].(string)] = r
	}
	return out
}

// roleOf is the logical id of the role of the payhook function whose PAYHOOK_SERVICE is svc.
func (g edge) roleOf(t *testing.T, svc string) string {
	t.Helper()
	for role, s := range serviceRoles(synthesized.templates[g.e.Name]) {
		if s == svc {
			return role
		}
	}
	t.Fatalf("%s: no function of service %s", g.e.Name, svc)
	return ""
}

// identity is the policy documents attached to a role of the template.
func (g edge) identity(role string) []any {
	var docs []any
	for _, r := range ofType(g.rs, "AWS::IAM::Policy") {
		if strings.Contains(jsonString(r.Props["Roles"]), `{"Ref":"`+role+`"}`) {
			docs = append(docs, r.Props["PolicyDocument"])
		}
	}
	return docs
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestWAFNeverJudgesASignedBody checks, on every env, that AWS's managed rules only count
// what they find in a body, that the body limit blocks on Content-Length, and that each
// provider path has its own rate rule (and source addresses when the env file lists them)
// while the ingress-wide rate rule leaves those paths alone.
func TestWAFNeverJudgesASignedBody(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			g := edgeOf(t, e)
			rules := g.wafRules(t)
			for group, body := range webhookingress.BodyRules() {
				r, ok := rules[group]
				require.True(t, ok, "managed group %s", group)
				assert.Equal(t, map[string]any{"None": map[string]any{}}, r["OverrideAction"], "%s keeps its own actions but for the body's", group)
				overrides := jsonString(r["Statement"])
				for _, rule := range body {
					assert.Contains(t, overrides, `{"ActionToUse":{"Count":{}},"Name":"`+rule+`"}`, "%s: %s counts", group, rule)
				}
			}
			size := rules[webhookingress.RuleBodySize]
			require.NotNil(t, size, "a body-size rule")
			assert.Equal(t, map[string]any{"Block": map[string]any{}}, size["Action"])
			assert.Equal(t, webhookingress.GreaterThan(e.API.MaxBodyBytes), size["Statement"].(map[string]any)["RegexMatchStatement"].(map[string]any)["RegexString"])

			global := jsonString(rules[webhookingress.RuleRateLimit]["Statement"])
			for _, p := range e.Providers {
				if !p.OwnPath() {
					assert.NotContains(t, rules, "RateLimit-"+p.Name)
					continue
				}
				path := `"SearchString":"/` + e.API.Path + "/" + p.Name + `"`
				rate, ok := rules["RateLimit-"+p.Name]
				require.True(t, ok, "%s has a rate rule of its own", p.Name)
				want := e.API.WAFRateLimit
				if p.WAFRateLimit > 0 {
					want = p.WAFRateLimit
				}
				rbs := rate["Statement"].(map[string]any)["RateBasedStatement"].(map[string]any)
				assert.Equal(t, float64(want), num(rbs["Limit"]), p.Name)
				assert.Contains(t, jsonString(rbs["ScopeDownStatement"]), path, "%s's rate rule counts its path only", p.Name)
				assert.Contains(t, global, path, "the ingress-wide rule leaves %s's path to its own", p.Name)
				_, sources := rules["SourceIps-"+p.Name]
				assert.Equal(t, len(p.SourceIPs) > 0, sources, "%s: source addresses enforced iff listed", p.Name)
			}
			assert.NotContains(t, jsonString(synthesized.templates[e.Name]), "{provider}", "no catch-all provider route")
		})
	}
}

// TestEachProviderHasItsOwnPathOrKey checks, on every env, that a keyless provider has a
// literal path of its own with its own throttle, that every other path needs a key, and that
// each keyed provider and the smoke step have a key and a usage plan of their own, tagged with
// their provider and named to ingest.
func TestEachProviderHasItsOwnPathOrKey(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			g := edgeOf(t, e)
			paths := map[string]string{} // resource id → path part
			for _, r := range ofType(g.rs, "AWS::ApiGateway::Resource") {
				paths[r.ID] = r.Props["PathPart"].(string)
			}
			keyless := map[string]bool{}
			wantPaths := map[string]bool{e.API.Path: true}
			for _, p := range e.Providers {
				keyless[p.Name] = p.Keyless
				if p.OwnPath() {
					wantPaths[p.Name] = true
				}
			}
			gotPaths := map[string]bool{}
			for _, part := range paths {
				gotPaths[part] = true
			}
			assert.Equal(t, wantPaths, gotPaths, "a path per provider that needs one, nothing else")
			for _, m := range ofType(g.rs, "AWS::ApiGateway::Method") {
				part := paths[m.Props["ResourceId"].(map[string]any)["Ref"].(string)]
				assert.Equal(t, "POST", m.Props["HttpMethod"])
				assert.Equal(t, !keyless[part], m.Props["ApiKeyRequired"], "POST .../%s", part)
			}
			settings := jsonString(one(t, g.rs, "AWS::ApiGateway::Stage").Props["MethodSettings"])
			for _, p := range e.Providers {
				if !p.OwnPath() {
					continue
				}
				rate, burst := e.API.ThrottleRate, e.API.ThrottleBurst
				if p.ThrottleRate > 0 {
					rate = p.ThrottleRate
				}
				if p.ThrottleBurst > 0 {
					burst = p.ThrottleBurst
				}
				assert.Contains(t, settings, fmt.Sprintf(`"HttpMethod":"POST","ResourcePath":"/~1%s~1%s","ThrottlingBurstLimit":%d,"ThrottlingRateLimit":%v`,
					e.API.Path, p.Name, burst, rate), "%s's own throttle", p.Name)
			}

			// A key per keyed provider and the smoke step, each in a plan of its own.
			keys := map[string]string{} // key resource id → provider
			for _, k := range ofType(g.rs, "AWS::ApiGateway::ApiKey") {
				var provider string
				for _, tag := range k.Props["Tags"].([]any) {
					if tag := tag.(map[string]any); tag["Key"] == contract.ProviderTag {
						provider = tag["Value"].(string)
					}
				}
				require.NotEmpty(t, provider, "%s is tagged with its provider", k.ID)
				assert.Equal(t, contract.APIKeyName(e.Name, provider), k.Props["Name"])
				assert.False(t, keyless[provider], "%s is keyless: it has no key", provider)
				keys[k.ID] = provider
			}
			want := []string{contract.SmokeProvider}
			for _, p := range e.Providers {
				if !p.Keyless {
					want = append(want, p.Name)
				}
			}
			assert.ElementsMatch(t, want, mapValues(keys))
			plans := map[string]string{}
			for _, pk := range ofType(g.rs, "AWS::ApiGateway::UsagePlanKey") {
				key := pk.Props["KeyId"].(map[string]any)["Ref"].(string)
				plan := pk.Props["UsagePlanId"].(map[string]any)["Ref"].(string)
				_, taken := plans[plan]
				assert.False(t, taken, "plan %s holds one key", plan)
				plans[plan] = key
			}
			assert.Len(t, plans, len(keys), "every key in a plan")
			ingest := functionNamed(t, g.rs, "payhook-"+e.Name+"-ingest")
			apiKeys := jsonString(ingest.Props["Environment"].(map[string]any)["Variables"].(map[string]any)[contract.EnvAPIKeys])
			for id, provider := range keys {
				assert.Regexp(t, `",?`+regexp.QuoteMeta(provider)+`:",\{"Ref":"`+id+`"\}`, apiKeys, "ingest knows %s's key", provider)
			}
		})
	}
}

// TestOnlyTheirReadersReadTheSecrets evaluates, on every env, the secrets' resource policies
// and their key's policy as AWS would: an administrator of the account is refused, ingest is
// not, the env's smoke role reads the smoke secret alone, and the env file's break-glass role
// reads both.
func TestOnlyTheirReadersReadTheSecrets(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			g := edgeOf(t, e)
			acct := e.Account
			if acct == "" {
				acct = contract.LocalAccount
			}
			secretsKey := ""
			for _, k := range ofType(g.rs, "AWS::KMS::Key") {
				if strings.Contains(k.Props["Description"].(string), "signing secrets") {
					secretsKey = k.ID
				}
			}
			require.NotEmpty(t, secretsKey, "the signing secrets' key")
			secrets := map[string]string{} // logical id → name
			for _, s := range ofType(g.rs, "AWS::SecretsManager::Secret") {
				secrets[s.ID] = s.Props["Name"].(string)
				assert.Equal(t, map[string]any{"Fn::GetAtt": []any{secretsKey, "Arn"}}, s.Props["KmsKeyId"], "%s under the secrets key", s.ID)
			}
			policies := map[string]any{} // secret name → resource policy
			for _, p := range ofType(g.rs, "AWS::SecretsManager::ResourcePolicy") {
				policies[secrets[p.Props["SecretId"].(map[string]any)["Ref"].(string)]] = p.Props["ResourcePolicy"]
			}
			require.Len(t, policies, 2, "both secrets have a resource policy")

			ingest := "{GetAtt:" + g.roleOf(t, "ingest") + ".Arn}"
			admin := "arn:aws:iam::" + acct + ":role/Administrator"
			smoke := "arn:aws:iam::" + acct + ":role/" + contract.SmokeRoleName(e.Name)
			readers := map[string][2]bool{ // role → may read [signing secrets, smoke secret]
				ingest: {true, true}, admin: {false, false}, smoke: {false, true},
			}
			if e.BreakGlassRole != "" {
				readers[e.BreakGlassRole] = [2]bool{true, true}
			}
			deny := func(docs []any, role, action string) bool {
				return g.model.Evaluate(docs, iam.Request{Role: role, Action: action, Resource: "*",
					Context: map[string]string{"aws:principalarn": role}}).ExplicitDeny
			}
			var keyPolicy any
			for _, k := range ofType(g.rs, "AWS::KMS::Key") {
				if k.ID == secretsKey {
					keyPolicy = k.Props["KeyPolicy"]
				}
			}
			for role, may := range readers {
				assert.Equal(t, !may[0], deny([]any{policies[contract.SigningSecretName(e.Name)]}, role, "secretsmanager:GetSecretValue"), "%s reads the signing secrets: %v", role, may[0])
				assert.Equal(t, !may[1], deny([]any{policies[contract.SmokeSecretName(e.Name)]}, role, "secretsmanager:GetSecretValue"), "%s reads the smoke secret: %v", role, may[1])
				assert.Equal(t, !may[1], deny([]any{keyPolicy}, role, "kms:Decrypt"), "%s decrypts with the secrets key: %v", role, may[1])
			}
		})
	}
}

// TestEachFunctionWritesOnlyItsOwnItems evaluates each function's identity policies on
// every env: writes are allowed on the key prefixes its items have and refused on the
// others (a compromised ingest cannot rewrite daily totals), and the reconciler queries
// gsi1 alone.
func TestEachFunctionWritesOnlyItsOwnItems(t *testing.T) {
	day := "acme#2026-12-07"
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			g := edgeOf(t, e)
			table := "{GetAtt:" + one(t, g.rs, "AWS::DynamoDB::Table").ID + ".Arn}"
			for _, c := range []struct {
				service, action, resource, key string
				allowed                        bool
			}{
				{"ingest", "dynamodb:PutItem", table, contract.KeyTransaction + "acme#tx1", true},
				{"ingest", "dynamodb:UpdateItem", table, contract.KeyTransaction + "acme#tx1", false}, // it only puts (decision 0001)
				{"ingest", "dynamodb:PutItem", table, contract.KeyTotal + day, false},
				{"ingest", "dynamodb:UpdateItem", table, contract.KeyTotal + day, false},
				{"ingest", "dynamodb:PutItem", table, contract.KeyFailure + "m1", false},
				{"ingest", "dynamodb:PutItem", table, "", false},
				{"accounting", "dynamodb:UpdateItem", table, contract.KeyTotal + day, true},
				{"accounting", "dynamodb:UpdateItem", table, contract.KeyFailure + "m1", false},
				{"notifyfailures", "dynamodb:PutItem", table, contract.KeyFailure + "m1", true},
				{"notifyfailures", "dynamodb:UpdateItem", table, contract.KeyTotal + day, false},
				{"reconciler", "dynamodb:UpdateItem", table, contract.KeyTransaction + "acme#tx1", true},
				{"reconciler", "dynamodb:UpdateItem", table, contract.KeyTotal + day, false},
				{"reconciler", "dynamodb:Query", table + "/index/gsi1", "", true},
				{"reconciler", "dynamodb:Query", table, "", false},
			} {
				ctx := map[string]string{}
				if c.key != "" {
					ctx["dynamodb:leadingkeys"] = c.key
				}
				role := g.roleOf(t, c.service)
				d := g.model.Evaluate(g.identity(role), iam.Request{Role: role, Action: c.action, Resource: c.resource, Context: ctx})
				assert.Equal(t, c.allowed, d.Allowed, "%s %s on %s (leading key %q): %s", c.service, c.action, c.resource, c.key, d.Why)
			}
		})
	}
}

// TestAPIGatewayInvokesFromItsOwnAccountOnly checks that every invoke permission names the
// source account and that none lets the console's test-invoke stage call the function.
func TestAPIGatewayInvokesFromItsOwnAccountOnly(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			rs := resources(t, e.Name)
			n := 0
			for _, p := range ofType(rs, "AWS::Lambda::Permission") {
				if p.Props["Principal"] != "apigateway.amazonaws.com" {
					continue
				}
				n++
				assert.NotNil(t, p.Props["SourceAccount"], "%s names its source account (CT.LAMBDA.PR.2)", p.ID)
				assert.NotContains(t, jsonString(p.Props["SourceArn"]), "test-invoke-stage", p.ID)
			}
			assert.Positive(t, n)
		})
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
