package envs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitErrors returns the errors joined in err.
func splitErrors(t *testing.T, err error) []error {
	t.Helper()
	require.Error(t, err)
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineOf returns the 1-based line of the first line of file containing marker.
func lineOf(t *testing.T, file, marker string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line contains %q", file, marker)
	return 0
}

// writeFile writes content into dir/name and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// minimalEnv is a valid environment file that sets only the required keys.
const minimalEnv = `name: %s
region: eu-west-1
account: "333333333333"
order: 1
providers:
  - name: acme
    scheme: stripe
functions:
  ingest: {memory_mb: 256, timeout_seconds: 10}
  accounting: {memory_mb: 256, timeout_seconds: 30}
  notify_failures: {memory_mb: 128, timeout_seconds: 30}
queue:
  max_receive_count: 5
  visibility_timeout_seconds: 180
worker:
  batch_size: 10
alarms:
  emails: [ops@example.com]
log_retention_days: 7
`

func TestCommittedEnvironmentsLoad(t *testing.T) {
	envs, err := LoadDir(".")
	require.NoError(t, err)

	var names []string
	for _, e := range envs {
		names = append(names, e.Name)
		require.NoError(t, e.Validate(), e.Name)
	}
	assert.Equal(t, []string{"local", "dev", "staging", "prod"}, names, "sorted by (order, name)")

	byName := map[string]Env{}
	for _, e := range envs {
		byName[e.Name] = e
	}
	local, dev, staging, prod := byName["local"], byName["dev"], byName["staging"], byName["prod"]

	assert.True(t, local.LocalOnly)
	assert.False(t, local.Deployable())
	assert.Equal(t, 3, local.Queue.MaxReceiveCount)
	assert.ElementsMatch(t, []Scheme{SchemeStandardWebhooks, SchemeStripe, SchemeNone, SchemeStripe, SchemeStandardWebhooks}, schemes(local))
	assert.Equal(t, map[string]string{"stripe-events": "stripe", "acme-events": "standard-webhooks"}, formats(local),
		"local exercises every payload format")
	assert.Equal(t, map[string]string{"stripe": "stripe"}, formats(prod))
	assert.True(t, prod.Live, "prod refuses Stripe's test-mode events")
	assert.False(t, dev.Live)

	assert.Equal(t, 1, dev.Order)
	assert.Equal(t, "LambdaAllAtOnce", dev.Deployment.ConfigName())
	assert.Contains(t, schemes(dev), SchemeNone)
	assert.Equal(t, 14, dev.LogRetentionDays)

	assert.Equal(t, 2, staging.Order)
	assert.Equal(t, "LambdaCanary10Percent5Minutes", staging.Deployment.ConfigName())
	assert.NotContains(t, schemes(staging), SchemeNone)

	assert.Equal(t, 3, prod.Order)
	assert.Equal(t, ApprovalManual, prod.Approval)
	assert.True(t, prod.RetainData)
	assert.Equal(t, "LambdaLinear10PercentEvery1Minute", prod.Deployment.ConfigName())
	assert.Equal(t, 365, prod.LogRetentionDays)
	assert.NotEmpty(t, prod.Alarms.Emails)
	assert.NotContains(t, schemes(prod), SchemeNone)
	assert.Greater(t, prod.API.ThrottleRate, staging.API.ThrottleRate)

	// Defect 8 of the reference design: reserved concurrency only where set on purpose.
	for _, e := range envs {
		fns := []Function{e.Functions.Ingest, e.Functions.Accounting, e.Functions.NotifyFailures}
		for _, f := range fns {
			if e.Name == "prod" {
				assert.NotNil(t, f.ReservedConcurrency, e.Name)
			} else {
				assert.Nil(t, f.ReservedConcurrency, e.Name)
			}
		}
	}

	p, err := LoadPipeline(PipelineFile)
	require.NoError(t, err)
	assert.Equal(t, "payhook/payhook", p.Repository)
	assert.Equal(t, "main", p.Branch)
	assert.Equal(t, "111111111111", p.Account)
	assert.Equal(t, "us-east-1", p.Region)
	require.NoError(t, p.Validate())
}

// schemes returns the provider schemes of e.
func schemes(e Env) []Scheme {
	var out []Scheme
	for _, p := range e.Providers {
		out = append(out, p.Scheme)
	}
	return out
}

// badCase is one file of envs/testdata/bad: a complete environment with one
// defect, on the line marked "# defect".
type badCase struct {
	file     string
	path     string
	message  string
	inSchema bool // the JSON Schema rejects the file too
}

// badCases describes envs/testdata/bad.
func badCases() []badCase {
	return []badCase{
		{"unknown-key", "worker.batching_windw_seconds", "unknown field", true},
		{"wrong-type", "functions.ingest.memory_mb", `must be an integer, got string "256"`, true},
		{"bad-region", "region", `must be a region the AWS SDK knows (af-south-1 ... us-west-2), got "us-east-7"`, true},
		{"bad-tag", `tags["bad key!"]`, `key must match ^[\p{L}\p{Z}\p{N}_.:/=+@-]*$ (AWS's tag characters`, true},
		{"visibility", "queue.visibility_timeout_seconds", "must be at least 6 × functions.accounting.timeout_seconds = 180 (AWS guidance for Lambda SQS event sources), got 60", false},
		{"ingest-timeout", "functions.ingest.timeout_seconds", "must be at most 29 for ingest (API Gateway's integration timeout), got 30", true},
		{"memory-64", "functions.notify_failures.memory_mb", "must be between 128 and 10240, got 64", true},
		{"retain-approval", "retain_data", "retain_data requires approval: manual", true},
		{"no-account", "account", "required for an environment the pipeline deploys: it runs in an AWS account of its own, never the pipeline's", true},
		{"keyless-unsigned", "providers[2].keyless", "a keyless provider needs a signature scheme", true},
		{"retain-logs", "log_retention_days", "must be at least 365 with retain_data: true (PCI DSS 10.7 keeps audit logs a year", true},
		{"retain-unsigned", "providers[2].scheme", "scheme none (unsigned) is not allowed with retain_data: true", true},
		{"bad-email", "alarms.emails[1]", `must be an e-mail address, got "ops-at-example.com"`, true},
		{"log-retention", "log_retention_days", "must be one of 1, 3, 5, 7, 14, 30,", true},
		{"batch-window", "worker.batch_size", "must be at most 10 unless batching_window_seconds is at least 1, got 100", true},
		{"dup-providers", "providers[2].name", `duplicate provider name "acme" (also providers[0])`, false},
		{"name-mismatch", "name", `must equal the file's base name "name-mismatch", got "other"`, false},
		{"format-scheme", "providers[1].format", "format stripe requires scheme stripe (Stripe signs its events with Stripe-Signature), got standard-webhooks", false},
		{"mapping-missing", "providers[0].format", "format standard-webhooks requires a mapping", false},
		{"mapping-overlap", "providers[0].mapping", `event type "payment.succeeded" is listed in both credit and debit`, false},
		{"mapping-pointer", "providers[0].mapping.transaction_id", "must match ^(/([^~]|~[01])*)+$", true},
		{"stripe-choice", "providers[0].stripe.credit_on", "must be one of payment_intent.succeeded, charge.succeeded", true},
		{"canary-interval", "deployment.interval_minutes", "strategy canary allows 5, 10, 15, 30 (CodeDeploy's predefined Lambda configs), got 7", true},
	}
}

func TestLoadFileBadCorpus(t *testing.T) {
	for _, tc := range badCases() {
		t.Run(tc.file, func(t *testing.T) {
			file := filepath.Join("testdata", "bad", tc.file+".yaml")
			line := lineOf(t, file, "# defect")

			_, err := LoadFile(file)
			errs := splitErrors(t, err)
			require.Len(t, errs, 1, "exactly one defect: %v", err)

			want := fmt.Sprintf("%s:%d: %s: %s", file, line, tc.path, tc.message)
			assert.True(t, strings.HasPrefix(err.Error(), want), "got  %s\nwant %s...", err, want)

			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, file, fe.File)
			assert.Equal(t, line, fe.Line)
			assert.Equal(t, tc.path, fe.Path)
		})
	}
}

func TestBadCorpusIsCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, tc := range badCases() {
		covered[tc.file] = true
	}
	require.Len(t, files, len(badCases()))
	for _, f := range files {
		assert.True(t, covered[strings.TrimSuffix(filepath.Base(f), ".yaml")], "%s has no case in badCases", f)
	}
}

func TestLoadFileReportsEveryProblem(t *testing.T) {
	content := `name: three
region: eu-west-1
order: 1
providers:
  - name: acme
    scheme: stripe
functions:
  ingest:
    memory_mb: 64
    timeout_seconds: 10
  accounting: {memory_mb: 256, timeout_seconds: 30}
  notify_failures: {memory_mb: 128, timeout_seconds: 30}
queue:
  max_receive_count: 5
  visibility_timeout_seconds: 180
  retention_days: 7
  dlq_retention_days: 3
worker:
  batch_size: 10
alarms:
  emails: [ops@example.com]
log_retention_days: 8
account: "333333333333"
`
	file := writeFile(t, t.TempDir(), "three.yaml", content)
	_, err := LoadFile(file)
	errs := splitErrors(t, err)
	require.Len(t, errs, 3, "%v", err)
	assert.Equal(t, file+":9: functions.ingest.memory_mb: must be between 128 and 10240, got 64", errs[0].Error())
	assert.Equal(t, file+":17: queue.dlq_retention_days: must be at least retention_days (7): a dead-letter queue keeps the original enqueue time, so a shorter retention deletes messages early; got 3", errs[1].Error())
	assert.True(t, strings.HasPrefix(errs[2].Error(), file+":22: log_retention_days: must be one of 1, 3, 5, 7, 14,"), errs[2].Error())
}

// TestUnknownKeyHidesNothing: a misspelt key is reported with everything else that is
// wrong in the file, the key it was meant to be (now missing) included.
func TestUnknownKeyHidesNothing(t *testing.T) {
	content := strings.Replace(fmt.Sprintf(minimalEnv, "typo"), "  visibility_timeout_seconds: 180", "  visibility_tmeout_seconds: 180", 1)
	content = strings.Replace(content, "order: 1", "order: 1\ncolour: blue", 1)
	content = strings.Replace(content, "  batch_size: 10", "  batch_size: 100", 1)
	file := writeFile(t, t.TempDir(), "typo.yaml", content)
	_, err := LoadFile(file)
	var got []string
	for _, e := range splitErrors(t, err) {
		got = append(got, strings.TrimPrefix(e.Error(), file+":"))
	}
	assert.Equal(t, []string{
		"5: colour: unknown field",
		"13: queue.visibility_timeout_seconds: required", // on its mapping's line
		"15: queue.visibility_tmeout_seconds: unknown field",
		"17: worker.batch_size: must be at most 10 unless batching_window_seconds is at least 1, got 100",
	}, got)
}

func TestLoadFileMissingRequired(t *testing.T) {
	content := `name: missing
region: eu-west-1
providers:
  - name: acme
    scheme: stripe
functions:
  ingest: {memory_mb: 256, timeout_seconds: 10}
  accounting:
    memory_mb: 256
queue:
  max_receive_count: 5
  visibility_timeout_seconds: 180
alarms:
  emails: [ops@example.com]
log_retention_days: 7
`
	file := writeFile(t, t.TempDir(), "missing.yaml", content)
	_, err := LoadFile(file)
	errs := splitErrors(t, err)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	assert.Equal(t, []string{
		file + ":1: account: required for an environment the pipeline deploys: it runs in an AWS account of its own, never the pipeline's (dev and staging may share a non-production account; an environment with retain_data needs one apart from every environment without it)",
		file + ":1: order: required unless local_only is true",
		file + ":1: worker: required",
		file + ":6: functions.notify_failures: required",
		file + ":8: functions.accounting.timeout_seconds: required",
	}, got)
}

func TestLoadFileDecodeErrors(t *testing.T) {
	valid := fmt.Sprintf(minimalEnv, "decode")
	tests := []struct {
		name    string
		content string
		want    string // after "<file>:"
	}{
		{"unknown top-level key", valid + "colour: blue\n", "20: colour: unknown field"},
		{"unknown nested key", strings.Replace(valid, "  batch_size: 10", "  batch_size: 10\n  batch: 2", 1), "17: worker.batch: unknown field"},
		{"float for an integer", strings.Replace(valid, "order: 1", "order: 1.5", 1), "4: order: must be an integer, got number 1.5"},
		{"quoted number", strings.Replace(valid, "order: 1", `order: "1"`, 1), `4: order: must be an integer, got string "1"`},
		{"yes for a boolean", valid + "local_only: yes\n", `20: local_only: must be true or false, got string "yes"`},
		{"number for a string", strings.Replace(valid, "region: eu-west-1", "region: 12", 1), "2: region: must be a string, got integer 12"},
		{"mapping for a list", strings.Replace(valid, "  emails: [ops@example.com]", "  emails: {a: b}", 1), "18: alarms.emails: must be a list, got a mapping"},
		{"scalar for a mapping", valid + "api: fast\n", `20: api: must be a mapping, got string "fast"`},
		{"null for a number", valid + "api:\n  throttle_rate:\n", "21: api.throttle_rate: must be a number, got null"},
		{"number for a tag value", valid + "tags:\n  cost-center: 1234\n", "21: tags.cost-center: must be a string, got integer 1234"},
		{"alias", valid + "tags:\n  a: &x b\n", "21: tags.a: YAML anchors, aliases and tags are not supported"},
		{"merge key", valid + "api:\n  <<: {path: x}\n", "21: api: YAML merge keys (<<) are not supported"},
		{"two documents", valid + "---\nname: other\n", "21: (root): only one YAML document is allowed"},
		{"empty file", "# nothing\n", "1: (root): file is empty"},
		{"list at the top", "- a\n", "1: (root): must be a mapping, got a list"},
		{"duplicate key", valid + "order: 2\n", "20: order: duplicate key, already defined on line 4"},
		{"syntax error", "name: x\n  bad: indent\n", "1: syntax error: mapping value is not allowed in this context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "decode.yaml", tc.content)
			_, err := LoadFile(file)
			require.Error(t, err)
			assert.Equal(t, file+":"+tc.want, err.Error())
		})
	}
}

func TestLoadFileDefaults(t *testing.T) {
	file := writeFile(t, t.TempDir(), "minimal.yaml", fmt.Sprintf(minimalEnv, "minimal"))
	env, err := LoadFile(file)
	require.NoError(t, err)

	want := Defaults()
	assert.Equal(t, want.API, env.API)
	assert.Equal(t, want.Alarms.ErrorThreshold, env.Alarms.ErrorThreshold)
	assert.Equal(t, want.Alarms.OldestMessageAgeSeconds, env.Alarms.OldestMessageAgeSeconds)
	assert.Equal(t, Deployment{Strategy: StrategyAllAtOnce}, env.Deployment)
	assert.Equal(t, ApprovalNone, env.Approval)
	assert.False(t, env.RetainData)
	assert.False(t, env.LocalOnly)
	assert.Equal(t, 4, env.Queue.RetentionDays)
	assert.Equal(t, 14, env.Queue.DLQRetentionDays)
	assert.Equal(t, 0, env.Worker.BatchingWindowSeconds)
	assert.Nil(t, env.Functions.Ingest.ReservedConcurrency)
	assert.Equal(t, "333333333333", env.Account)
	assert.Equal(t, "webhooks", env.API.Path)
	assert.Equal(t, "v1", env.API.StageName)

	// A partial mapping keeps the defaults of the keys it leaves out.
	file = writeFile(t, t.TempDir(), "partial.yaml", fmt.Sprintf(minimalEnv, "partial")+"api:\n  throttle_rate: 7.5\n")
	env, err = LoadFile(file)
	require.NoError(t, err)
	assert.InDelta(t, 7.5, env.API.ThrottleRate, 0)
	assert.Equal(t, "webhooks", env.API.Path)
	assert.Equal(t, 100, env.API.ThrottleBurst)

	// A key written with a zero value is validated, not replaced by its default.
	file = writeFile(t, t.TempDir(), "zero.yaml", fmt.Sprintf(minimalEnv, "zero")+"api:\n  throttle_burst: 0\n  path: \"\"\n")
	_, err = LoadFile(file)
	errs := splitErrors(t, err)
	require.Len(t, errs, 2, "%v", err)
	assert.Equal(t, file+":21: api.throttle_burst: must be at least 1, got 0", errs[0].Error())
	assert.Equal(t, file+`:22: api.path: must match ^[a-z0-9-]+$, got ""`, errs[1].Error())
}

func TestLoadDirDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, dir, "blue.yaml", fmt.Sprintf(minimalEnv, "blue"))
	second := writeFile(t, dir, "green.yaml", fmt.Sprintf(minimalEnv, "blue"))
	_, err := LoadDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), second+`:1: name: must equal the file's base name "green", got "blue"`)
	assert.Contains(t, err.Error(), second+`:1: name: duplicate environment name "blue", also declared in `+first+":1")
}

func TestLoadDir(t *testing.T) {
	t.Run("sorted by order then name, pipeline.yaml skipped", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "zeta.yaml", fmt.Sprintf(minimalEnv, "zeta"))
		writeFile(t, dir, "alpha.yaml", strings.Replace(fmt.Sprintf(minimalEnv, "alpha"), "order: 1", "order: 2", 1))
		writeFile(t, dir, "beta.yaml", fmt.Sprintf(minimalEnv, "beta"))
		writeFile(t, dir, PipelineFile, "not: an env\n")
		writeFile(t, dir, "notes.txt", "ignored\n")
		envs, err := LoadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range envs {
			names = append(names, e.Name)
		}
		assert.Equal(t, []string{"beta", "zeta", "alpha"}, names)
	})
	t.Run("no environment file", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, PipelineFile, "repository: a/b\n")
		_, err := LoadDir(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "holds no environment file")
	})
	t.Run("problems of every file", func(t *testing.T) {
		dir := t.TempDir()
		a := writeFile(t, dir, "aa.yaml", strings.Replace(fmt.Sprintf(minimalEnv, "aa"), "order: 1", "order: 0", 1))
		b := writeFile(t, dir, "bb.yaml", fmt.Sprintf(minimalEnv, "bb")+"extra: 1\n")
		_, err := LoadDir(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), a+":4: order: must be at least 1, got 0")
		assert.Contains(t, err.Error(), b+":20: extra: unknown field")
	})
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "nope.yaml")
}

func TestLoadPipeline(t *testing.T) {
	const valid = `repository: payhook/payhook
connection_arn: arn:aws:codestar-connections:eu-west-1:123456789012:connection/abc-123
account: "123456789012"
region: eu-west-1
approvers: [arn:aws:iam::123456789012:role/approvers]
`
	tests := []struct {
		name    string
		content string
		want    []string // errors after "<file>:"; none means valid
	}{
		{"valid, branch defaults to main", valid, nil},
		{"unknown key", valid + "branches: [main]\n", []string{"6: branches: unknown field"}},
		{"no approvers", strings.Replace(valid, "approvers: [arn:aws:iam::123456789012:role/approvers]\n", "", 1), []string{"1: approvers: required"}},
		{"an approver that is not a role or user ARN", strings.Replace(valid, "role/approvers", "group/approvers", 1),
			[]string{"5: approvers[0]: must match ^arn:aws"}},
		{"bad connection ARN", strings.Replace(valid, "codestar-connections", "codecommit", 1),
			[]string{"2: connection_arn: must match ^arn:aws:(codeconnections|codestar-connections):"}},
		{"bad repository and e-mail", strings.Replace(valid, "payhook/payhook", "payhook", 1) + "notification_emails: [nobody]\n",
			[]string{"1: repository: must match ", `6: notification_emails[0]: must be an e-mail address, got "nobody"`}},
		{"missing account, unquoted digits elsewhere", strings.Replace(valid, "account: \"123456789012\"\n", "", 1),
			[]string{"1: account: required"}},
		{"account as a number", strings.Replace(valid, `"123456789012"`, "123456789012", 1),
			[]string{"3: account: must be a string, got integer 123456789012"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), PipelineFile, tc.content)
			p, err := LoadPipeline(file)
			if len(tc.want) == 0 {
				require.NoError(t, err)
				assert.Equal(t, "main", p.Branch)
				assert.Equal(t, "payhook/payhook", p.Repository)
				return
			}
			errs := splitErrors(t, err)
			require.Len(t, errs, len(tc.want), "%v", err)
			for i, w := range tc.want {
				assert.True(t, strings.HasPrefix(errs[i].Error(), file+":"+w), "got  %s\nwant %s:%s...", errs[i], file, w)
			}
		})
	}
}

func TestFieldPath(t *testing.T) {
	tests := []struct {
		path fieldPath
		want string
	}{
		{fieldPath{}, "(root)"},
		{fieldPath{}.child("queue").child("retention_days"), "queue.retention_days"},
		{fieldPath{}.child("providers").index(2).child("name"), "providers[2].name"},
		{fieldPath{}.child("tags").key("cost-center"), "tags.cost-center"},
		{fieldPath{}.child("tags").key("a.b"), `tags["a.b"]`},
		{fieldPath{}.child("tags").key(""), `tags[""]`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.path.String())
		})
	}
}

func TestRetainedDataNeedsAnAccountOfItsOwn(t *testing.T) {
	dir := t.TempDir()
	prod := strings.Replace(inAccount(fmt.Sprintf(minimalEnv, "prod"), "222222222222"), "order: 1", "order: 2", 1) +
		"retain_data: true\napproval: manual\n"
	writeFile(t, dir, "prod.yaml", yearOfLogs(prod))
	writeFile(t, dir, "dev.yaml", inAccount(fmt.Sprintf(minimalEnv, "dev"), "222222222222"))

	// GIVEN dev (no retained data) in prod's account: refused, naming both files and lines
	_, err := LoadDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "prod.yaml")+":")
	assert.Contains(t, err.Error(), `account: 222222222222 is also the account of dev (`+filepath.Join(dir, "dev.yaml")+":")
	assert.Contains(t, err.Error(), "PCI DSS environment separation")

	// GIVEN dev in another account: loaded; prod in the pipeline's account is refused
	writeFile(t, dir, "dev.yaml", fmt.Sprintf(minimalEnv, "dev"))
	list, err := LoadDir(dir)
	require.NoError(t, err)
	require.NoError(t, CheckPipelineAccount(list, Pipeline{Account: "111111111111"}))
	err = CheckPipelineAccount(list, Pipeline{Account: "222222222222"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is the pipeline's account")
	assert.Regexp(t, `prod\.yaml:\d+: account:`, err.Error())

	// GIVEN dev in the pipeline's account: refused too, though it keeps no data (a merged
	// commit would reach it before any approval, with the pipeline's rights)
	err = CheckPipelineAccount(list, Pipeline{Account: "333333333333"})
	require.Error(t, err)
	assert.Regexp(t, `dev\.yaml:\d+: account: 333333333333 is the pipeline's account`, err.Error())
	assert.NotContains(t, err.Error(), "prod.yaml")
}

// TestDeployableEnvNeedsAnAccount: an env the pipeline deploys names its account (else it
// would deploy wherever the credentials point, or into the pipeline's); a local one need not.
func TestDeployableEnvNeedsAnAccount(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "dev.yaml", inAccount(fmt.Sprintf(minimalEnv, "dev"), ""))
	_, err := LoadFile(file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), file+":1: account: required for an environment the pipeline deploys")
	file = writeFile(t, dir, "local.yaml", strings.Replace(inAccount(fmt.Sprintf(minimalEnv, "local"), ""), "order: 1", "local_only: true", 1))
	_, err = LoadFile(file)
	require.NoError(t, err)
}

// yearOfLogs rewrites minimalEnv's log retention to the year an env with retain_data keeps.
func yearOfLogs(env string) string {
	return strings.Replace(env, "log_retention_days: 7", "log_retention_days: 365", 1)
}

// inAccount rewrites minimalEnv's account ("" drops the line).
func inAccount(env, account string) string {
	line := ""
	if account != "" {
		line = "account: \"" + account + "\"\n"
	}
	return strings.Replace(env, "account: \"333333333333\"\n", line, 1)
}

// formats lists the providers posting events, with their format.
func formats(e Env) map[string]string {
	out := map[string]string{}
	for name, f := range e.PayloadFormats() {
		out[name] = f.Format
	}
	return out
}
