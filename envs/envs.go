// Package envs holds the desired state of every payhook environment and of
// its delivery pipeline.
//
// Each environment is described by exactly one file, envs/<name>.yaml, read by
// [LoadFile] or [LoadDir] into an [Env]; the CDK Pipelines configuration lives
// in envs/pipeline.yaml and is read by [LoadPipeline] into a [Pipeline].
// Loading is strict: unknown keys, wrong YAML types, values out of range and
// impossible combinations (for example an SQS visibility timeout below six
// times the worker timeout, or data retention without a manual approval) are
// all reported at once, each as "<file>:<line>: <field path>: <problem>".
//
// The JSON Schemas envs/schema.json and envs/pipeline.schema.json are
// generated from these Go types by [Schema], [PipelineSchema] and
// [WriteSchemas]: the doc comment of every field below becomes its
// "description", and its `schema` struct tag gives the constraints that both
// the schema and the validator enforce.
//
// Struct tags: `yaml` names the key; `schema` is a ';'-separated list of
// rules: required, min=N, max=N, exclusiveMin=N, minLength=N, maxLength=N,
// pattern=RE, enum=a|b|c, minItems=N, format=email|aws-region, keyMinLength=N,
// keyMaxLength=N, keyNotPrefix=S, keyPattern=RE. On a list, pattern and format
// apply to each item; on a map, the key* rules apply to keys, and maxLength and
// pattern to values. format=aws-region is a region of the AWS SDK's partition
// metadata (contract.Regions).
package envs

import (
	"cmp"
	"slices"

	"github.com/payhook/payhook/internal/contract"
)

// Approval says whether promotion into an environment waits for a person.
type Approval string

// Approval values.
const (
	// ApprovalNone promotes into the environment without waiting.
	ApprovalNone Approval = "none"
	// ApprovalManual adds a manual approval step before the environment's stage.
	ApprovalManual Approval = "manual"
)

// Strategy is how CodeDeploy shifts traffic to a new Lambda version.
type Strategy string

// Strategy values.
const (
	// StrategyAllAtOnce shifts all traffic at once.
	StrategyAllAtOnce Strategy = "all-at-once"
	// StrategyCanary shifts Percent of the traffic, then the rest after IntervalMinutes.
	StrategyCanary Strategy = "canary"
	// StrategyLinear shifts Percent more of the traffic every IntervalMinutes.
	StrategyLinear Strategy = "linear"
)

// Scheme is how a webhook provider signs its requests.
type Scheme string

// Scheme values.
const (
	// SchemeStandardWebhooks is the Standard Webhooks scheme (webhook-id,
	// webhook-timestamp and webhook-signature headers, whsec_ secrets).
	SchemeStandardWebhooks Scheme = "standard-webhooks"
	// SchemeStripe is Stripe's Stripe-Signature header (t=, v1=).
	SchemeStripe Scheme = "stripe"
	// SchemeNone accepts unsigned requests (API key only).
	SchemeNone Scheme = "none"
)

// Env describes one payhook environment: a deployment of the webhook system
// (API Gateway, ingest Lambda, DynamoDB table, SQS queue and DLQ, accounting
// and notify-failures Lambdas, SNS alerts) and how the pipeline promotes into it.
type Env struct {
	// accountAt is "file:line" of the account field (set by LoadDir), for cross-file errors.
	accountAt string
	// Environment name, the suffix of every resource name; must equal the file's base name.
	Name string `yaml:"name" schema:"required;pattern=^[a-z][a-z0-9-]{1,15}$"`
	// AWS account id (12 digits, quoted in YAML). Required unless local_only: never the pipeline's account; an environment with retain_data needs one apart from every environment without it (PCI DSS environment separation); dev and staging may share a non-production account.
	Account string `yaml:"account" schema:"pattern=^[0-9]{12}$"`
	// AWS region, for example us-east-1 or eu-central-1.
	Region string `yaml:"region" schema:"required;format=aws-region"`
	// Promotion order in the pipeline, from 1; environments sharing an order form one wave. Required unless local_only is true.
	Order int `yaml:"order" schema:"min=1"`
	// When true the environment only runs on local emulators (mage local) and is never a pipeline stage. Default: false.
	LocalOnly bool `yaml:"local_only"`
	// Whether promotion into this environment waits for a manual approval: none or manual. Default: none.
	Approval Approval `yaml:"approval" schema:"enum=none|manual"`
	// Whether the environment takes live payments: events whose livemode is false (Stripe's, or a mapping's livemode) are refused with 422, and in an environment that is not live, events whose livemode is true. Default: false.
	Live bool `yaml:"live"`
	// Keep data: the table gets RemovalPolicy RETAIN and deletion protection, and log groups are retained. Requires approval manual and signed providers. Default: false.
	RetainData bool `yaml:"retain_data"`
	// The role (ARN, in this environment's account) that may read the providers' signing secrets besides ingest, for an incident; absent means ingest alone (and the smoke step, the smoke secret).
	BreakGlassRole string `yaml:"break_glass_role" schema:"pattern=^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"`
	// Whether preview copies of this environment (SUFFIX=<s>: every name suffixed, data never retained) may be made. When absent: true, unless retain_data is true.
	AllowPreview *bool `yaml:"allow_preview"`
	// The role (ARN, in this environment's account) that deploys, smoke-tests and destroys preview copies of this environment, such as a CI system's OIDC role; in a preview it may read the smoke secret. Absent: a preview's smoke secret is readable by its ingest alone.
	PreviewRole string `yaml:"preview_role" schema:"pattern=^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"`
	// previewOf is the base environment's name when this is a preview copy (Preview).
	previewOf string
	// How CodeDeploy shifts traffic to new Lambda versions.
	Deployment Deployment `yaml:"deployment"`
	// The public REST API.
	API API `yaml:"api"`
	// Webhook providers allowed to post; at least one, names unique.
	Providers []Provider `yaml:"providers" schema:"required;minItems=1"`
	// The three Lambda functions.
	Functions Functions `yaml:"functions" schema:"required"`
	// The SQS queue between ingest and accounting, and its dead-letter queue.
	Queue Queue `yaml:"queue" schema:"required"`
	// How the accounting function consumes the queue.
	Worker Worker `yaml:"worker" schema:"required"`
	// CloudWatch alarms and who receives them.
	Alarms Alarms `yaml:"alarms" schema:"required"`
	// AWS X-Ray tracing: how many webhook requests are traced.
	Tracing Tracing `yaml:"tracing"`
	// CloudWatch Logs retention of every log group, in days (one of the values CloudWatch Logs allows).
	LogRetentionDays int `yaml:"log_retention_days" schema:"required;enum=1|3|5|7|14|30|60|90|120|150|180|365|400|545|731|1096|1827|2192|2557|2922|3288|3653"`
	// Extra tags put on every resource of the environment (keys 1 to 128 characters, not starting with aws:, values up to 256).
	Tags map[string]string `yaml:"tags" schema:"keyMinLength=1;keyMaxLength=128;keyNotPrefix=aws:;keyPattern=^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$;maxLength=256;pattern=^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$"`
}

// Deployment selects one of CodeDeploy's predefined Lambda deployment
// configurations: all at once, canary 10 percent then the rest after 5, 10, 15
// or 30 minutes, or linear 10 percent every 1, 2, 3 or 10 minutes.
type Deployment struct {
	// Traffic shifting strategy: all-at-once, canary or linear. Default: all-at-once.
	Strategy Strategy `yaml:"strategy" schema:"enum=all-at-once|canary|linear"`
	// Percentage of traffic shifted per step; required for canary and linear (CodeDeploy's predefined configs use 10), absent for all-at-once.
	Percent int `yaml:"percent" schema:"enum=10"`
	// Minutes between steps; required for canary (5, 10, 15 or 30) and linear (1, 2, 3 or 10), absent for all-at-once.
	IntervalMinutes int `yaml:"interval_minutes"`
}

// API configures the API Gateway REST API that receives webhooks.
type API struct {
	// Resource path of the webhook endpoint, without slashes. Default: webhooks.
	Path string `yaml:"path" schema:"pattern=^[a-z0-9-]+$"`
	// API Gateway stage name (letters, digits, hyphens and underscores). Default: v1.
	StageName string `yaml:"stage_name" schema:"pattern=^[A-Za-z0-9_-]{1,128}$"`
	// Usage plan steady-state rate limit, in requests per second. Default: 50.
	ThrottleRate float64 `yaml:"throttle_rate" schema:"exclusiveMin=0"`
	// Usage plan burst limit, in requests. Default: 100.
	ThrottleBurst int `yaml:"throttle_burst" schema:"min=1"`
	// Usage plan quota, in requests per day. Default: 100000.
	DailyQuota int `yaml:"daily_quota" schema:"min=1"`
	// WAF rate-based rule limit, in requests per 5 minutes from one IP address. Default: 10000.
	WAFRateLimit int `yaml:"waf_rate_limit" schema:"min=10;max=2000000000"`
	// Largest accepted request body, in bytes; larger bodies get 413. At most 4194304: a Lambda invocation carries at most 6 MB, and a binary body arrives base64-encoded. Default: 131072.
	MaxBodyBytes int `yaml:"max_body_bytes" schema:"min=1;max=4194304"`
}

// Provider is a webhook sender, how its requests are authenticated and what it posts.
type Provider struct {
	// Provider name as it appears in the URL and in records, unique in the environment.
	Name string `yaml:"name" schema:"required;pattern=^[a-z][a-z0-9_-]{0,31}$"`
	// Signature scheme: standard-webhooks, stripe or none (API key only; not allowed with retain_data).
	Scheme Scheme `yaml:"scheme" schema:"required;enum=standard-webhooks|stripe|none"`
	// What the provider posts: payhook (payhook's flat notification, to the API-key route or to <path>/<name>), stripe (Stripe event objects, to <path>/<name>; requires scheme stripe) or standard-webhooks (an envelope read through mapping, to <path>/<name>; requires scheme standard-webhooks). Absent means payhook.
	Format Format `yaml:"format" schema:"enum=payhook|stripe|standard-webhooks"`
	// Which Stripe events move money (format stripe only).
	Stripe *StripeEvents `yaml:"stripe"`
	// Where the envelope holds the payment, and which event types credit or debit it (format standard-webhooks only, required there).
	Mapping *Mapping `yaml:"mapping"`
	// Serve this provider on its own path <api.path>/<name> without an API key, for a sender that signs every request but cannot send a key (Stripe); the signature alone authenticates it, so a scheme is required; otherwise the provider gets an API key of its own. Default: false.
	Keyless bool `yaml:"keyless"`
	// Requests per second of the provider's own path (a throttle of its own); only for a provider with one (keyless, or posting events). Absent means api.throttle_rate.
	ThrottleRate float64 `yaml:"throttle_rate" schema:"exclusiveMin=0"`
	// Burst of the provider's own path. Absent means api.throttle_burst.
	ThrottleBurst int `yaml:"throttle_burst" schema:"min=1"`
	// Requests one address may send to the provider's own path in 5 minutes before WAF blocks it. Absent means api.waf_rate_limit.
	WAFRateLimit int `yaml:"waf_rate_limit" schema:"min=10;max=2000000000"`
	// The only addresses (CIDR blocks) WAF lets post to the provider's own path, e.g. the webhook addresses a provider publishes. Absent means any address.
	SourceIPs []string `yaml:"source_ips" schema:"pattern=^[0-9A-Fa-f:.]+/[0-9]{1,3}$"`
}

// OwnPath reports whether the provider posts to <api.path>/<name>: keyless, or posting events.
func (p Provider) OwnPath() bool {
	return p.Keyless || (p.Format != "" && p.Format != FormatPayhook)
}

// Format is what a provider posts.
type Format string

// Format values.
const (
	// FormatPayhook is payhook's flat notification.
	FormatPayhook Format = contract.FormatPayhook
	// FormatStripe is Stripe's event object.
	FormatStripe Format = contract.FormatStripe
	// FormatStandardWebhooks is a Standard Webhooks envelope read through a Mapping.
	FormatStandardWebhooks Format = contract.FormatStandardWebhooks
)

// StripeEvents chooses the Stripe events that move money, one of each pair so that a payment or a refund is never counted twice. Every other event is answered 200 and recorded as ignored.
type StripeEvents struct {
	// The event that credits a payment: payment_intent.succeeded (its amount_received) or charge.succeeded (a captured charge's amount_captured; charge.captured then credits a charge captured later). Absent means payment_intent.succeeded.
	CreditOn string `yaml:"credit_on" schema:"enum=payment_intent.succeeded|charge.succeeded"`
	// The event that debits a refund: charge.refunded (amount_refunded, the cumulative refunded amount; payhook counts the difference) or refund.created (one refund's amount). Absent means charge.refunded.
	RefundOn string `yaml:"refund_on" schema:"enum=charge.refunded|refund.created"`
}

// Mapping reads a payment movement out of a Standard Webhooks envelope ({"type", "timestamp", "data"}): JSON pointers (RFC 6901) into the whole envelope, and event types. The event id is the webhook-id header.
type Mapping struct {
	// JSON pointer to the payment's id (a string or an integer), e.g. /data/payment_id.
	TransactionID string `yaml:"transaction_id" schema:"required;pattern=^(/([^~]|~[01])*)+$"`
	// JSON pointer to the amount, e.g. /data/amount.
	Amount string `yaml:"amount" schema:"required;pattern=^(/([^~]|~[01])*)+$"`
	// The amount's unit: minor (an integer of ISO 4217 minor units, 1234 for 12.34 USD) or decimal (major units, "12.34", as a number or a string).
	AmountUnit string `yaml:"amount_unit" schema:"required;enum=minor|decimal"`
	// JSON pointer to the ISO 4217 currency code (either case), e.g. /data/currency.
	Currency string `yaml:"currency" schema:"required;pattern=^(/([^~]|~[01])*)+$"`
	// JSON pointer to a boolean livemode flag, checked against the environment's live; empty when the sender has none.
	Livemode string `yaml:"livemode" schema:"pattern=^(/([^~]|~[01])*)+$"`
	// Event types that credit a payment; at least one.
	Credit []string `yaml:"credit" schema:"required;minItems=1"`
	// Event types that debit a refund from a payment.
	Debit []string `yaml:"debit"`
	// What a debit event's amount is: delta (this refund alone) or cumulative (everything refunded on the payment so far; payhook counts the difference). Absent means delta.
	DebitAmount string `yaml:"debit_amount" schema:"enum=delta|cumulative"`
	// Event types answered 200 and recorded as ignored. A type in no list is ignored too, and also counted in the UnmappedEventType metric.
	Ignored []string `yaml:"ignored"`
}

// Functions sizes the three Lambda functions.
type Functions struct {
	// The ingest function behind API Gateway; its timeout is at most 29 seconds, API Gateway's integration timeout.
	Ingest Function `yaml:"ingest" schema:"required"`
	// The accounting function consuming the queue.
	Accounting Function `yaml:"accounting" schema:"required"`
	// The function consuming the dead-letter queue and alerting through SNS.
	NotifyFailures Function `yaml:"notify_failures" schema:"required"`
}

// Function sizes one Lambda function.
type Function struct {
	// Memory, in MB.
	MemoryMB int `yaml:"memory_mb" schema:"required;min=128;max=10240"`
	// Timeout, in seconds.
	TimeoutSeconds int `yaml:"timeout_seconds" schema:"required;min=1;max=900"`
	// Reserved concurrency; absent means unreserved (the account's shared pool).
	ReservedConcurrency *int `yaml:"reserved_concurrency" schema:"min=1"`
}

// Queue configures the SQS queue feeding the accounting function and its
// dead-letter queue.
type Queue struct {
	// Receives before a message moves to the dead-letter queue.
	MaxReceiveCount int `yaml:"max_receive_count" schema:"required;min=1;max=1000"`
	// Visibility timeout, in seconds; at least 6 times functions.accounting.timeout_seconds (AWS guidance for Lambda SQS event sources).
	VisibilityTimeoutSeconds int `yaml:"visibility_timeout_seconds" schema:"required;min=0;max=43200"`
	// Message retention of the queue, in days. Default: 4.
	RetentionDays int `yaml:"retention_days" schema:"min=1;max=14"`
	// Message retention of the dead-letter queue, in days; at least retention_days, since a dead-letter queue keeps the original enqueue time. Default: 14.
	DLQRetentionDays int `yaml:"dlq_retention_days" schema:"min=1;max=14"`
}

// Worker configures the SQS event source of the accounting function.
type Worker struct {
	// Messages per invocation; above 10 requires batching_window_seconds of at least 1.
	BatchSize int `yaml:"batch_size" schema:"required;min=1;max=10000"`
	// Maximum time to gather a batch, in seconds. Default: 0.
	BatchingWindowSeconds int `yaml:"batching_window_seconds" schema:"min=0;max=300"`
}

// Tracing says which webhook requests AWS X-Ray traces. An X-Ray sampling rule on the API
// stage decides for each request; the functions trace only what the API sampled (Lambda's
// PassThrough), so a sampled webhook is one trace from the API through accounting. Both
// fields 0 turns tracing off: no rule, no tracing on the stage or the functions.
type Tracing struct {
	// Requests per second traced before sample_percent applies (the rule's reservoir; X-Ray's default rule has 1). Default: 1.
	ReservoirPerSecond int `yaml:"reservoir_per_second" schema:"min=0;max=10000"`
	// Percentage of the requests beyond the reservoir that are traced (the rule's fixed rate; X-Ray's default rule has 5), 0 to 100. Default: 5.
	SamplePercent float64 `yaml:"sample_percent" schema:"min=0;max=100"`
}

// Off reports whether tracing is off (nothing is sampled).
func (t Tracing) Off() bool { return t.ReservoirPerSecond == 0 && t.SamplePercent == 0 }

// Alarms configures the CloudWatch alarms of an environment.
type Alarms struct {
	// E-mail addresses subscribed to the alarm topic; at least one.
	Emails []string `yaml:"emails" schema:"required;minItems=1;format=email"`
	// Function errors in 5 minutes that raise an alarm. Default: 1.
	ErrorThreshold int `yaml:"error_threshold" schema:"min=1"`
	// Function error rate, in percent of invocations over 5 minutes, that raises an alarm. Default: 5.
	ErrorRatePercent float64 `yaml:"error_rate_percent" schema:"exclusiveMin=0;max=100"`
	// Age of the oldest queued message, in seconds, that raises an alarm. Default: 300.
	OldestMessageAgeSeconds int `yaml:"oldest_message_age_seconds" schema:"min=60"`
	// API 5XX responses in 5 minutes that raise an alarm. Default: 5.
	API5xxThreshold int `yaml:"api_5xx_threshold" schema:"min=1"`
	// API p99 latency, in milliseconds, that raises an alarm. Default: 3000.
	APIP99LatencyMs int `yaml:"api_p99_latency_ms" schema:"min=1"`
	// Requests WAF blocks in 5 minutes that raise an alarm: scanners are blocked all day, so only a surge (or genuine senders refused) should page. Default: 1000.
	WAFBlockedThreshold int `yaml:"waf_blocked_threshold" schema:"min=1"`
	// Where the runbook is: every alarm's description ends with "Runbook: <runbook_url>#alarm-<kind>" (the README's Runbook section has an entry per kind). Default: https://github.com/payhook/payhook/blob/main/README.md.
	RunbookURL string `yaml:"runbook_url" schema:"pattern=^https://[^\\s#]+$;maxLength=512"`
}

// DefaultRunbookURL is alarms.runbook_url's default: the README of payhook's repository.
const DefaultRunbookURL = "https://github.com/payhook/payhook/blob/main/README.md"

// Defaults returns an Env holding the default of every optional field; it is
// the value LoadFile decodes a file into, so a key absent from the file keeps
// its default while a key present, even with a zero value, is validated as
// written. The defaults:
//
//   - approval none, local_only false, retain_data false
//   - deployment.strategy all-at-once
//   - api: path webhooks, stage_name v1, throttle_rate 50, throttle_burst 100,
//     daily_quota 100000, waf_rate_limit 10000, max_body_bytes 131072
//   - queue: retention_days 4 (SQS's own default), dlq_retention_days 14
//   - worker.batching_window_seconds 0
//   - tracing: reservoir_per_second 1, sample_percent 5 (X-Ray's default rule)
//   - alarms: error_threshold 1, error_rate_percent 5,
//     oldest_message_age_seconds 300, api_5xx_threshold 5,
//     api_p99_latency_ms 3000, waf_blocked_threshold 1000,
//     runbook_url DefaultRunbookURL
//
// Account, order, reserved concurrency and tags have no default (empty,
// 0, nil and nil); the remaining fields are required.
func Defaults() Env {
	return Env{
		Approval:   ApprovalNone,
		Deployment: Deployment{Strategy: StrategyAllAtOnce},
		API: API{
			Path:          "webhooks",
			StageName:     "v1",
			ThrottleRate:  50,
			ThrottleBurst: 100,
			DailyQuota:    100000,
			WAFRateLimit:  10000,
			MaxBodyBytes:  131072,
		},
		Queue: Queue{
			RetentionDays:    4,
			DLQRetentionDays: 14,
		},
		Tracing: Tracing{ReservoirPerSecond: 1, SamplePercent: 5},
		Alarms: Alarms{
			ErrorThreshold:          1,
			ErrorRatePercent:        5,
			OldestMessageAgeSeconds: 300,
			API5xxThreshold:         5,
			APIP99LatencyMs:         3000,
			WAFBlockedThreshold:     1000,
			RunbookURL:              DefaultRunbookURL,
		},
	}
}

// StageName is the name of the environment's CDK stage and the prefix of its
// resources: "payhook-<name>".
func (e Env) StageName() string {
	return contract.StageName(e.Name)
}

// ProvidersSpec encodes the providers as "name:scheme,name:scheme", the form of ingest's
// PROVIDERS variable and of the probes' PAYHOOK_PROVIDERS.
func (e Env) ProvidersSpec() string {
	list := make([]contract.Provider, len(e.Providers))
	for i, p := range e.Providers {
		list[i] = contract.Provider{Name: p.Name, Scheme: string(p.Scheme)}
	}
	return contract.ProvidersSpec(list)
}

// PayloadFormats returns the formats of the providers that post events, keyed by name.
func (e Env) PayloadFormats() map[string]contract.PayloadFormat {
	out := map[string]contract.PayloadFormat{}
	for _, p := range e.Providers {
		if f, ok := p.PayloadFormat(); ok {
			out[p.Name] = f
		}
	}
	return out
}

// PayloadFormatsSpec is PayloadFormats in the form of ingest's PAYLOAD_FORMATS.
func (e Env) PayloadFormatsSpec() string { return contract.FormatsSpec(e.PayloadFormats()) }

// PayloadFormat is the provider's format as ingest reads it; ok is false for payhook's
// flat notification.
func (p Provider) PayloadFormat() (contract.PayloadFormat, bool) {
	switch p.Format {
	case FormatStripe:
		f := contract.PayloadFormat{Format: contract.FormatStripe}
		if p.Stripe != nil {
			f.CreditOn, f.RefundOn = p.Stripe.CreditOn, p.Stripe.RefundOn
		}
		return f.WithDefaults(), true
	case FormatStandardWebhooks:
		f := contract.PayloadFormat{Format: contract.FormatStandardWebhooks}
		if m := p.Mapping; m != nil {
			f.Mapping = &contract.Mapping{TransactionID: m.TransactionID, Amount: m.Amount, AmountUnit: m.AmountUnit,
				Currency: m.Currency, Livemode: m.Livemode, Credit: m.Credit, Debit: m.Debit, DebitAmount: m.DebitAmount, Ignored: m.Ignored}
		}
		return f.WithDefaults(), true
	}
	return contract.PayloadFormat{}, false
}

// IngestProvidersSpec is ProvidersSpec followed by the smoke provider, which every
// environment accepts (contract.SmokeProvider).
func (e Env) IngestProvidersSpec() string {
	return e.ProvidersSpec() + "," + contract.SmokeProvidersSpec()
}

// Deployable reports whether the environment is a pipeline stage, that is neither
// local-only nor a preview copy.
func (e Env) Deployable() bool {
	return !e.LocalOnly && e.previewOf == ""
}

// ConfigName returns the name of the CodeDeploy predefined Lambda deployment
// configuration selected by d, e.g. "LambdaAllAtOnce",
// "LambdaCanary10Percent5Minutes" or "LambdaLinear10PercentEvery1Minute"
// (CodeDeploy's full name prefixes it with "CodeDeployDefault."), or "" for a
// combination that validation rejects.
func (d Deployment) ConfigName() string {
	for _, c := range predefinedConfigs() {
		if c.strategy == d.Strategy && c.percent == d.Percent && c.interval == d.IntervalMinutes {
			return c.name
		}
	}
	return ""
}

// predefinedConfig is one of CodeDeploy's predefined Lambda deployment
// configurations.
type predefinedConfig struct {
	strategy Strategy
	percent  int
	interval int
	name     string
}

// predefinedConfigs lists CodeDeploy's predefined Lambda deployment
// configurations, the only ones an Env may select.
func predefinedConfigs() []predefinedConfig {
	return []predefinedConfig{
		{StrategyAllAtOnce, 0, 0, "LambdaAllAtOnce"},
		{StrategyCanary, 10, 5, "LambdaCanary10Percent5Minutes"},
		{StrategyCanary, 10, 10, "LambdaCanary10Percent10Minutes"},
		{StrategyCanary, 10, 15, "LambdaCanary10Percent15Minutes"},
		{StrategyCanary, 10, 30, "LambdaCanary10Percent30Minutes"},
		{StrategyLinear, 10, 1, "LambdaLinear10PercentEvery1Minute"},
		{StrategyLinear, 10, 2, "LambdaLinear10PercentEvery2Minutes"},
		{StrategyLinear, 10, 3, "LambdaLinear10PercentEvery3Minutes"},
		{StrategyLinear, 10, 10, "LambdaLinear10PercentEvery10Minutes"},
	}
}

// intervalsFor returns the interval_minutes values CodeDeploy predefines for
// strategy s, ascending.
func intervalsFor(s Strategy) []int {
	var out []int
	for _, c := range predefinedConfigs() {
		if c.strategy == s {
			out = append(out, c.interval)
		}
	}
	slices.Sort(out)
	return out
}

// Waves groups the deployable environments of envs into pipeline waves:
// environments sharing an order form one wave, waves ascend by order and each
// wave is sorted by name. Local-only environments are left out.
func Waves(envs []Env) [][]Env {
	var deployable []Env
	for _, e := range envs {
		if e.Deployable() {
			deployable = append(deployable, e)
		}
	}
	sortEnvs(deployable)
	var waves [][]Env
	for i, e := range deployable {
		if i == 0 || e.Order != deployable[i-1].Order {
			waves = append(waves, nil)
		}
		waves[len(waves)-1] = append(waves[len(waves)-1], e)
	}
	return waves
}

// sortEnvs sorts envs by (order, name).
func sortEnvs(envs []Env) {
	slices.SortStableFunc(envs, func(a, b Env) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Name, b.Name))
	})
}
