package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/envs"
)

// resource is one CloudFormation resource of a template.
type resource struct {
	ID       string
	Type     string
	Props    map[string]any
	Deletion string
}

func resources(t *testing.T, env string) []resource {
	t.Helper()
	tmpl, ok := synthesized.templates[env]
	require.True(t, ok, "no template for %s", env)
	tpl := constructstest.Template(tmpl)
	var out []resource
	for id := range tmpl["Resources"].(map[string]any) {
		r := tpl.Resource(id)
		props, _ := r["Properties"].(map[string]any)
		del, _ := r["DeletionPolicy"].(string)
		out = append(out, resource{ID: id, Type: r["Type"].(string), Props: props, Deletion: del})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func ofType(rs []resource, typ string) []resource {
	var out []resource
	for _, r := range rs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func one(t *testing.T, rs []resource, typ string) resource {
	t.Helper()
	got := ofType(rs, typ)
	require.Len(t, got, 1, "want exactly one %s", typ)
	return got[0]
}

// num reads a template number.
func num(v any) float64 { return constructstest.Number(v) }

func functionNamed(t *testing.T, rs []resource, name string) resource {
	t.Helper()
	for _, r := range ofType(rs, "AWS::Lambda::Function") {
		if r.Props["FunctionName"] == name {
			return r
		}
	}
	t.Fatalf("no function %s", name)
	return resource{}
}

func envByName(t *testing.T, name string) envs.Env {
	for _, e := range synthesized.envs {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no env %s", name)
	return envs.Env{}
}

// TestEveryEnvironmentIsSynthesized checks each env file against its template: counts,
// names, and that the env's values (not constants) reach the resources.
func TestEveryEnvironmentIsSynthesized(t *testing.T) {
	require.NotEmpty(t, synthesized.envs)
	require.Len(t, synthesized.templates, len(synthesized.envs), "one stage per env file")
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			rs := resources(t, e.Name)
			counts := map[string]int{}
			for _, r := range rs {
				counts[r.Type]++
			}
			deployGroups := 0
			keyed, ownPaths := 1, 0 // the smoke provider's key
			for _, p := range e.Providers {
				if !p.Keyless {
					keyed++
				}
				if p.OwnPath() {
					ownPaths++
				}
			}
			if e.Deployment.Strategy != envs.StrategyAllAtOnce {
				deployGroups = 4
			}
			assert.Equal(t, map[string]int{
				"AWS::Lambda::Function": 4, "AWS::Lambda::Alias": 4, "AWS::DynamoDB::Table": 1,
				"AWS::SQS::Queue": 2, "AWS::SNS::Topic": 1, "AWS::KMS::Key": 3, // alerts, logs, secrets
				"AWS::SNS::Subscription": len(e.Alarms.Emails), "AWS::WAFv2::WebACL": 1,
				"AWS::WAFv2::WebACLAssociation": 1, "AWS::WAFv2::LoggingConfiguration": 1,
				"AWS::ApiGateway::RestApi": 1, "AWS::ApiGateway::Method": 1 + ownPaths, "AWS::ApiGateway::UsagePlan": keyed,
				"AWS::ApiGateway::ApiKey": keyed, "AWS::Lambda::EventSourceMapping": 2,
				"AWS::CloudWatch::Alarm": 26, "AWS::Events::Rule": 1, "AWS::SecretsManager::Secret": 2, // signing + smoke
				"AWS::CodeDeploy::DeploymentGroup": deployGroups,
			}, pick(counts, "AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::DynamoDB::Table", "AWS::SQS::Queue",
				"AWS::SNS::Topic", "AWS::KMS::Key", "AWS::SNS::Subscription", "AWS::WAFv2::WebACL",
				"AWS::WAFv2::WebACLAssociation", "AWS::WAFv2::LoggingConfiguration", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Method",
				"AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::ApiKey", "AWS::Lambda::EventSourceMapping",
				"AWS::CloudWatch::Alarm", "AWS::Events::Rule", "AWS::SecretsManager::Secret", "AWS::CodeDeploy::DeploymentGroup"))
			assert.Zero(t, counts["Custom::LogRetention"], "explicit log groups, not the deprecated custom resource")
			assert.Zero(t, counts["AWS::Lambda::LayerVersion"], "no layers (reference defect 7)")

			// Every physical name carries the suffix.
			named := map[string]string{
				"AWS::DynamoDB::Table": "TableName", "AWS::SQS::Queue": "QueueName", "AWS::Lambda::Function": "FunctionName",
				"AWS::SNS::Topic": "TopicName", "AWS::ApiGateway::UsagePlan": "UsagePlanName", "AWS::ApiGateway::RestApi": "Name",
				"AWS::ApiGateway::ApiKey": "Name", "AWS::SecretsManager::Secret": "Name",
			}
			for _, r := range rs {
				if key, ok := named[r.Type]; ok {
					assert.Contains(t, r.Props[key], e.Name, "%s %s.%s", r.Type, r.ID, key)
				}
			}

			// API values: a usage plan per key, each with the env's throttle and quota (the
			// routes, keys and WAF rules per provider: edge_test.go).
			for _, plan := range ofType(rs, "AWS::ApiGateway::UsagePlan") {
				throttle := plan.Props["Throttle"].(map[string]any)
				assert.Equal(t, e.API.ThrottleRate, num(throttle["RateLimit"]))
				assert.Equal(t, float64(e.API.ThrottleBurst), num(throttle["BurstLimit"]))
				assert.Equal(t, float64(e.API.DailyQuota), num(plan.Props["Quota"].(map[string]any)["Limit"]))
			}
			for _, method := range ofType(rs, "AWS::ApiGateway::Method") {
				assert.Equal(t, "AWS_PROXY", method.Props["Integration"].(map[string]any)["Type"], "proxy integration (reference defect 1)")
			}
			acl := one(t, rs, "AWS::WAFv2::WebACL")
			assert.Contains(t, fmt.Sprint(acl.Props["Rules"]), fmt.Sprintf("Limit:%d", e.API.WAFRateLimit))
			stage := one(t, rs, "AWS::ApiGateway::Stage")
			assert.NotContains(t, fmt.Sprint(stage.Props["MethodSettings"]), "DataTraceEnabled:true")

			// Function values.
			for fn, f := range map[string]envs.Function{"ingest": e.Functions.Ingest, "accounting": e.Functions.Accounting,
				"notify-failures": e.Functions.NotifyFailures} {
				r := functionNamed(t, rs, "payhook-"+e.Name+"-"+fn)
				assert.Equal(t, float64(f.MemoryMB), num(r.Props["MemorySize"]), fn)
				assert.Equal(t, float64(f.TimeoutSeconds), num(r.Props["Timeout"]), fn)
				if f.ReservedConcurrency != nil {
					assert.Equal(t, float64(*f.ReservedConcurrency), num(r.Props["ReservedConcurrentExecutions"]), fn)
				} else {
					assert.NotContains(t, r.Props, "ReservedConcurrentExecutions", "%s: unreserved unless the env says so (reference defect 8)", fn)
				}
				assert.Equal(t, []any{"arm64"}, r.Props["Architectures"])
				assert.Equal(t, "provided.al2023", r.Props["Runtime"])
				if e.Tracing.Off() {
					assert.NotContains(t, r.Props, "TracingConfig", "%s: tracing off", fn)
				} else {
					assert.Equal(t, "PassThrough", r.Props["TracingConfig"].(map[string]any)["Mode"], "%s traces what the API sampled", fn)
				}
				vars := r.Props["Environment"].(map[string]any)["Variables"].(map[string]any)
				assert.Equal(t, e.Name, vars["PAYHOOK_ENV"])
			}
			ingest := functionNamed(t, rs, "payhook-"+e.Name+"-ingest")
			vars := ingest.Props["Environment"].(map[string]any)["Variables"].(map[string]any)
			assert.Equal(t, fmt.Sprint(e.API.MaxBodyBytes), vars["MAX_BODY_BYTES"])
			for _, p := range e.Providers {
				assert.Contains(t, vars["PROVIDERS"], p.Name+":"+string(p.Scheme))
			}
			assert.Equal(t, e.PayloadFormatsSpec(), vars["PAYLOAD_FORMATS"], "what each provider posts")
			assert.Equal(t, fmt.Sprint(e.Live), vars["PAYHOOK_LIVE"])
			// The alarm fires once every receive of a message has timed out (plus a margin);
			// the reconciler re-sends once the queue's retention has passed too.
			deadline := e.Queue.VisibilityTimeoutSeconds*e.Queue.MaxReceiveCount + 900
			after := e.Queue.RetentionDays*86400 + deadline
			reconciler := functionNamed(t, rs, "payhook-"+e.Name+"-reconciler")
			rvars := reconciler.Props["Environment"].(map[string]any)["Variables"].(map[string]any)
			assert.Equal(t, fmt.Sprintf("%ds", after), rvars["UNACCOUNTED_AFTER"])
			// A record waits on the outbox for one batching window and one accounting
			// invocation, and 30 s more, before the reconciler sends it (again).
			grace := e.Worker.BatchingWindowSeconds + e.Functions.Accounting.TimeoutSeconds + 30
			assert.Equal(t, fmt.Sprintf("%ds", grace), rvars["OUTBOX_GRACE"])
			// Tracing: the API's sampling rule is the env's, or there is none and nothing traces.
			rules := ofType(rs, "AWS::XRay::SamplingRule")
			if e.Tracing.Off() {
				assert.Empty(t, rules)
			} else {
				require.Len(t, rules, 1)
				rule := rules[0].Props["SamplingRule"].(map[string]any)
				assert.Equal(t, float64(e.Tracing.ReservoirPerSecond), num(rule["ReservoirSize"]))
				assert.InDelta(t, e.Tracing.SamplePercent/100, num(rule["FixedRate"]), 1e-12)
				assert.Equal(t, "AWS::ApiGateway::Stage", rule["ServiceType"])
				assert.Equal(t, "payhook-"+e.Name+"-api/"+e.API.StageName, rule["ServiceName"], "the stage's own service name")
			}
			var oldest []resource
			for _, a := range ofType(rs, "AWS::CloudWatch::Alarm") {
				if a.Props["MetricName"] == "OldestUnaccountedAgeSeconds" {
					oldest = append(oldest, a)
				}
			}
			require.Len(t, oldest, 1)
			assert.Equal(t, float64(deadline), num(oldest[0].Props["Threshold"]))
			assert.Equal(t, "Maximum", oldest[0].Props["Statistic"])
			for _, lg := range ofType(rs, "AWS::Logs::LogGroup") {
				assert.Equal(t, float64(e.LogRetentionDays), num(lg.Props["RetentionInDays"]), lg.ID)
			}

			// Queue values.
			for _, q := range ofType(rs, "AWS::SQS::Queue") {
				if strings.HasSuffix(q.Props["QueueName"].(string), "-queue") {
					assert.Equal(t, float64(e.Queue.VisibilityTimeoutSeconds), num(q.Props["VisibilityTimeout"]))
					assert.Equal(t, float64(e.Queue.RetentionDays*86400), num(q.Props["MessageRetentionPeriod"]))
					assert.Equal(t, float64(e.Queue.MaxReceiveCount), num(q.Props["RedrivePolicy"].(map[string]any)["maxReceiveCount"]))
				} else {
					assert.Equal(t, float64(e.Queue.DLQRetentionDays*86400), num(q.Props["MessageRetentionPeriod"]))
				}
			}
			for _, esm := range ofType(rs, "AWS::Lambda::EventSourceMapping") {
				assert.Equal(t, []any{"ReportBatchItemFailures"}, esm.Props["FunctionResponseTypes"])
			}

			// Data retention.
			table := one(t, rs, "AWS::DynamoDB::Table")
			assert.Equal(t, true, table.Props["PointInTimeRecoverySpecification"].(map[string]any)["PointInTimeRecoveryEnabled"])
			assert.Equal(t, e.RetainData, table.Props["DeletionProtectionEnabled"])
			want := "Delete"
			if e.RetainData {
				want = "Retain"
			}
			assert.Equal(t, want, table.Deletion)
			for _, lg := range ofType(rs, "AWS::Logs::LogGroup") {
				assert.Equal(t, want, lg.Deletion, lg.ID)
			}
		})
	}
}

// TestProdIsHardened pins what a production environment must have.
func TestProdIsHardened(t *testing.T) {
	e := envByName(t, "prod")
	require.True(t, e.RetainData)
	require.Equal(t, envs.ApprovalManual, e.Approval)
	rs := resources(t, "prod")
	for _, g := range ofType(rs, "AWS::CodeDeploy::DeploymentGroup") {
		cfg := fmt.Sprint(g.Props["DeploymentConfigName"])
		assert.Contains(t, cfg, e.Deployment.ConfigName())
		assert.Contains(t, fmt.Sprint(g.Props["AutoRollbackConfiguration"]), "DEPLOYMENT_STOP_ON_ALARM")
		assert.NotEmpty(t, g.Props["AlarmConfiguration"])
	}
	keys := ofType(rs, "AWS::KMS::Key")
	require.Len(t, keys, 3, "the alerts topic's key, the log groups' and the signing secrets'")
	for _, key := range keys {
		assert.Equal(t, true, key.Props["EnableKeyRotation"])
		assert.Contains(t, fmt.Sprint(key.Props["KeyPolicy"]), "DenyGrantsExceptForAWSResources", "CT.KMS.PR.3")
	}
	for _, g := range ofType(rs, "AWS::Logs::LogGroup") {
		assert.NotNil(t, g.Props["KmsKeyId"], "log groups are encrypted with the env's key")
		assert.GreaterOrEqual(t, num(g.Props["RetentionInDays"]), 365.0)
	}
	var caps []float64
	for _, m := range ofType(rs, "AWS::Lambda::EventSourceMapping") {
		if sc, ok := m.Props["ScalingConfig"].(map[string]any); ok {
			caps = append(caps, num(sc["MaximumConcurrency"]))
		}
	}
	assert.ElementsMatch(t, []float64{float64(*e.Functions.Accounting.ReservedConcurrency), float64(*e.Functions.NotifyFailures.ReservedConcurrency)},
		caps, "both event sources are capped at their consumer's reserved concurrency")
}

func pick(m map[string]int, keys ...string) map[string]int {
	out := map[string]int{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}
