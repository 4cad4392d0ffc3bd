package envs

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validEnv returns a valid deployable environment built in code.
func validEnv() Env {
	e := Defaults()
	e.Name = "dev"
	e.Region = "eu-west-1"
	e.Order = 1
	e.Account = "333333333333"
	e.Providers = []Provider{{Name: "acme", Scheme: SchemeStandardWebhooks}, {Name: "stripe", Scheme: SchemeStripe}}
	e.Functions = Functions{
		Ingest:         Function{MemoryMB: 256, TimeoutSeconds: 10},
		Accounting:     Function{MemoryMB: 256, TimeoutSeconds: 30},
		NotifyFailures: Function{MemoryMB: 128, TimeoutSeconds: 30},
	}
	e.Queue.MaxReceiveCount = 5
	e.Queue.VisibilityTimeoutSeconds = 180
	e.Worker.BatchSize = 10
	e.Alarms.Emails = []string{"ops@example.com"}
	e.LogRetentionDays = 14
	return e
}

func ptr(n int) *int { return &n }

func TestDeploymentConfigName(t *testing.T) {
	tests := []struct {
		d    Deployment
		want string
	}{
		{Deployment{Strategy: StrategyAllAtOnce}, "LambdaAllAtOnce"},
		{Deployment{Strategy: StrategyCanary, Percent: 10, IntervalMinutes: 5}, "LambdaCanary10Percent5Minutes"},
		{Deployment{Strategy: StrategyCanary, Percent: 10, IntervalMinutes: 10}, "LambdaCanary10Percent10Minutes"},
		{Deployment{Strategy: StrategyCanary, Percent: 10, IntervalMinutes: 15}, "LambdaCanary10Percent15Minutes"},
		{Deployment{Strategy: StrategyCanary, Percent: 10, IntervalMinutes: 30}, "LambdaCanary10Percent30Minutes"},
		{Deployment{Strategy: StrategyLinear, Percent: 10, IntervalMinutes: 1}, "LambdaLinear10PercentEvery1Minute"},
		{Deployment{Strategy: StrategyLinear, Percent: 10, IntervalMinutes: 2}, "LambdaLinear10PercentEvery2Minutes"},
		{Deployment{Strategy: StrategyLinear, Percent: 10, IntervalMinutes: 3}, "LambdaLinear10PercentEvery3Minutes"},
		{Deployment{Strategy: StrategyLinear, Percent: 10, IntervalMinutes: 10}, "LambdaLinear10PercentEvery10Minutes"},
		{Deployment{Strategy: StrategyCanary, Percent: 10, IntervalMinutes: 1}, ""},
		{Deployment{Strategy: StrategyLinear, Percent: 20, IntervalMinutes: 1}, ""},
		{Deployment{Strategy: StrategyAllAtOnce, IntervalMinutes: 5}, ""},
		{Deployment{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			e := validEnv()
			e.Deployment = tc.d
			assert.Equal(t, tc.want, e.Deployment.ConfigName())
			// A name exists exactly when validation accepts the deployment.
			if tc.d.Strategy != "" {
				assert.Equal(t, tc.want != "", e.Validate() == nil, "%v", e.Validate())
			}
		})
	}
}

func TestStageNameAndDeployable(t *testing.T) {
	e := validEnv()
	assert.Equal(t, "payhook-dev", e.StageName())
	assert.True(t, e.Deployable())
	e.LocalOnly = true
	assert.False(t, e.Deployable())
}

func TestWaves(t *testing.T) {
	mk := func(name string, order int, local bool) Env {
		return Env{Name: name, Order: order, LocalOnly: local}
	}
	waves := Waves([]Env{mk("prod-eu", 3, false), mk("local", 0, true), mk("dev", 1, false), mk("prod-us", 3, false), mk("staging", 2, false)})
	var names [][]string
	for _, w := range waves {
		var ns []string
		for _, e := range w {
			ns = append(ns, e.Name)
		}
		names = append(names, ns)
	}
	assert.Equal(t, [][]string{{"dev"}, {"staging"}, {"prod-eu", "prod-us"}}, names)
	assert.Empty(t, Waves([]Env{mk("local", 0, true)}))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Env)
		want   []string // "path: message" of every error, sorted by path
	}{
		{"valid", func(*Env) {}, nil},
		{"local env without order", func(e *Env) { e.LocalOnly, e.Order = true, 0 }, nil},
		{"prod-like", func(e *Env) {
			e.RetainData, e.Approval, e.Account, e.LogRetentionDays = true, ApprovalManual, "222222222222", 365
			e.Functions.Ingest.ReservedConcurrency = ptr(10)
		}, nil},
		{"retained data without an account", func(e *Env) {
			e.RetainData, e.Approval, e.Account, e.LogRetentionDays = true, ApprovalManual, "", 365
		}, []string{"account: required for an environment the pipeline deploys: it runs in an AWS account of its own, never the pipeline's (dev and staging may share a non-production account; an environment with retain_data needs one apart from every environment without it)"}},
		{"deployable env without order", func(e *Env) { e.Order = 0 }, []string{"order: required unless local_only is true"}},
		{"local env with approval and retained data", func(e *Env) {
			e.LocalOnly, e.Approval, e.RetainData = true, ApprovalManual, true
		}, []string{
			"approval: must be none when local_only is true: a local environment is never a pipeline stage",
			"retain_data: must be false when local_only is true: local emulators keep nothing",
		}},
		{"retained data, no approval, unsigned provider", func(e *Env) {
			e.RetainData, e.LogRetentionDays = true, 365
			e.Providers = append(e.Providers, Provider{Name: "legacy", Scheme: SchemeNone})
		}, []string{
			"providers[2].scheme: scheme none (unsigned) is not allowed with retain_data: true",
			"retain_data: retain_data requires approval: manual",
		}},
		{"bad reserved concurrency", func(e *Env) { e.Functions.Accounting.ReservedConcurrency = ptr(0) },
			[]string{"functions.accounting.reserved_concurrency: must be at least 1, got 0"}},
		{"ingest timeout out of range reports once", func(e *Env) { e.Functions.Ingest.TimeoutSeconds = 901 },
			[]string{"functions.ingest.timeout_seconds: must be between 1 and 900, got 901"}},
		{"visibility follows the accounting timeout", func(e *Env) { e.Functions.Accounting.TimeoutSeconds = 31 },
			[]string{"queue.visibility_timeout_seconds: must be at least 6 × functions.accounting.timeout_seconds = 186 (AWS guidance for Lambda SQS event sources), got 180"}},
		{"batch of 11 needs a window", func(e *Env) { e.Worker.BatchSize = 11 },
			[]string{"worker.batch_size: must be at most 10 unless batching_window_seconds is at least 1, got 11"}},
		{"batch of 11 with a window", func(e *Env) { e.Worker.BatchSize, e.Worker.BatchingWindowSeconds = 11, 1 }, nil},
		{"canary without interval", func(e *Env) { e.Deployment = Deployment{Strategy: StrategyCanary, Percent: 10} },
			[]string{"deployment.interval_minutes: required for strategy canary (one of 5, 10, 15, 30)"}},
		{"linear without percent", func(e *Env) { e.Deployment = Deployment{Strategy: StrategyLinear, IntervalMinutes: 2} },
			[]string{"deployment.percent: required for strategy linear"}},
		{"linear with 20 percent", func(e *Env) { e.Deployment = Deployment{Strategy: StrategyLinear, Percent: 20, IntervalMinutes: 2} },
			[]string{"deployment.percent: must be one of 10, got 20"}},
		{"all-at-once with percent", func(e *Env) { e.Deployment.Percent = 10 },
			[]string{"deployment.percent: only valid with strategy canary or linear"}},
		{"unknown strategy and approval", func(e *Env) { e.Deployment.Strategy, e.Approval = "blue-green", "auto" }, []string{
			`approval: must be one of none, manual, got "auto"`,
			`deployment.strategy: must be one of all-at-once, canary, linear, got "blue-green"`,
		}},
		{"not built on Defaults", func(e *Env) { e.Approval, e.API = "", API{} }, []string{
			`api.daily_quota: must be at least 1, got 0`,
			`api.max_body_bytes: must be between 1 and 4194304, got 0`,
			`api.path: must match ^[a-z0-9-]+$, got ""`,
			`api.stage_name: must match ^[A-Za-z0-9_-]{1,128}$, got ""`,
			`api.throttle_burst: must be at least 1, got 0`,
			`api.throttle_rate: must be greater than 0, got 0`,
			`api.waf_rate_limit: must be between 10 and 2000000000, got 0`,
			`approval: must be one of none, manual, got ""`,
		}},
		{"error rate of zero", func(e *Env) { e.Alarms.ErrorRatePercent = -1 },
			[]string{"alarms.error_rate_percent: must be greater than 0 and at most 100, got -1"}},
		{"throttle rate negative", func(e *Env) { e.API.ThrottleRate = -0.5 },
			[]string{"api.throttle_rate: must be greater than 0, got -0.5"}},
		{"body above the Lambda payload cap", func(e *Env) { e.API.MaxBodyBytes = 4194305 },
			[]string{"api.max_body_bytes: must be between 1 and 4194304, got 4194305"}},
		{"WAF limit below AWS's minimum", func(e *Env) { e.API.WAFRateLimit = 9 },
			[]string{"api.waf_rate_limit: must be between 10 and 2000000000, got 9"}},
		{"empty provider list", func(e *Env) { e.Providers = []Provider{} }, []string{"providers: must have at least 1 item(s), got 0"}},
		{"bad provider", func(e *Env) { e.Providers[1] = Provider{Name: "Stripe", Scheme: "hmac"} }, []string{
			`providers[1].name: must match ^[a-z][a-z0-9_-]{0,31}$, got "Stripe"`,
			`providers[1].scheme: must be one of standard-webhooks, stripe, none, got "hmac"`,
		}},
		{"bad account", func(e *Env) { e.Account = "12345" }, []string{`account: must match ^[0-9]{12}$, got "12345"`}},
		{"bad name", func(e *Env) { e.Name = "Dev_1" }, []string{`name: must match ^[a-z][a-z0-9-]{1,15}$, got "Dev_1"`}},
		{"bad tags", func(e *Env) {
			e.Tags = map[string]string{"aws:owner": "x", "team": strings.Repeat("x", 257), "": "y"}
		}, []string{
			`tags.team: must be at most 256 characters long, got 257`,
			`tags[""]: key must be 1 to 128 characters long, got 0`,
			`tags["aws:owner"]: key must not start with "aws:"`,
		}},
		{"dlq shorter than the queue", func(e *Env) { e.Queue.RetentionDays, e.Queue.DLQRetentionDays = 7, 3 },
			[]string{"queue.dlq_retention_days: must be at least retention_days (7): a dead-letter queue keeps the original enqueue time, so a shorter retention deletes messages early; got 3"}},
		{"missing e-mails", func(e *Env) { e.Alarms.Emails = nil }, []string{"alarms.emails: required"}},
		{"display-name e-mail", func(e *Env) { e.Alarms.Emails = []string{"Ops <ops@example.com>"} },
			[]string{`alarms.emails[0]: must be an e-mail address, got "Ops <ops@example.com>"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := validEnv()
			tc.modify(&e)
			err := e.Validate()
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var got []string
			for _, err := range splitErrors(t, err) {
				var fe *FieldError
				require.True(t, errors.As(err, &fe))
				assert.Empty(t, fe.File)
				got = append(got, err.Error())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPipelineValidate(t *testing.T) {
	err := Pipeline{Repository: "a/b"}.Validate()
	assert.Contains(t, err.Error(), "branch: must be at least 1 characters long, got 0")

	p := PipelineDefaults()
	err = p.Validate()
	var got []string
	for _, e := range splitErrors(t, err) {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{"account: required", "approvers: required", "connection_arn: required", "region: required", "repository: required"}, got)

	p.Repository = "payhook/payhook"
	p.ConnectionARN = "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
	p.Account = "111111111111"
	p.Region = "us-east-1"
	p.Approvers = []string{"arn:aws:iam::111111111111:role/approvers"}
	require.NoError(t, p.Validate())
	assert.Equal(t, []string{"111111111111"}, p.ApproverAccounts())
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		tag     string
		wantErr string
	}{
		{"", ""},
		{"required;min=1;max=900", ""},
		{"pattern=^[a-z]{1,3}$;enum=a|b", ""},
		{"required=true", "bad value"},
		{"min", "bad value"},
		{"min=x", "bad number"},
		{"minItems=1.5", "bad integer"},
		{"pattern=[", "bad pattern"},
		{"format=uri", "unknown format"},
		{"maximum=3", "unknown rule"},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			_, err := parseRules(tc.tag)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), tc.tag)
		})
	}
}
