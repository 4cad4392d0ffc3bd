package webhookingress

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/internal/check"
)

// WebhookIngressProps configures a WebhookIngress. Only Handler.CodeDir is
// required; every other field falls back to the default it documents (see
// defaults.go).
type WebhookIngressProps struct {
	// Handler configures the AlarmedFunction the ingress creates to handle
	// POST <Path>; API Gateway invokes its "live" alias through a Lambda
	// proxy integration, so the function's statusCode is the HTTP status.
	// Its CodeDir is required. When Handler.AlarmTopic is nil it inherits
	// AlarmTopic; when Handler.RemovalPolicy is empty it inherits
	// RemovalPolicy. A Handler.Timeout above API Gateway's 29 s integration
	// timeout gets a synthesis warning.
	//
	// Required.
	Handler alarmedfunction.AlarmedFunctionProps

	// ApiName is the name of the REST API, and the ApiName dimension of its
	// metrics: two APIs with one name in one account and region share their
	// metrics, so keep it unique there.
	//
	// Default: a name unique within the app, derived from the construct's
	// path (e.g. "Prod-Payments-Ingress-1A2B3C4D").
	ApiName *string

	// Description of the REST API.
	//
	// Default: no description.
	Description *string

	// Path is the one path segment that receives webhooks: letters, digits,
	// '.', '_', '-' or '~'.
	//
	// Default: "webhooks" (DefaultPath).
	Path *string

	// StageName of the deployment stage: letters, digits, '_' or '-'.
	//
	// Default: "v1" (DefaultStageName).
	StageName *string

	// ThrottleRateLimit is the steady-state requests per second of the
	// stage's methods and of the usage plan; greater than 0.
	//
	// Default: 50 (DefaultThrottleRateLimit).
	ThrottleRateLimit *float64

	// ThrottleBurstLimit is the burst size of the stage's methods and of the
	// usage plan; a whole number, at least 1.
	//
	// Default: 100 (DefaultThrottleBurstLimit).
	ThrottleBurstLimit *float64

	// QuotaPerDay is the requests per day the usage plan allows its API
	// key; a whole number, at least 1.
	//
	// Default: 100000 (DefaultQuotaPerDay).
	QuotaPerDay *float64

	// WafRateLimit is the number of requests one IP address may send in 5
	// minutes before WAF blocks it, 10..2,000,000,000.
	//
	// Default: 2000 (DefaultWafRateLimit).
	WafRateLimit *float64

	// AccessLogRetention of the access log group and of the WAF log group.
	//
	// Default: awslogs.RetentionDays_ONE_MONTH (DefaultAccessLogRetention).
	AccessLogRetention awslogs.RetentionDays

	// LogEncryptionKey encrypts the access and WAF log groups and, unless
	// Handler.LogEncryptionKey is set, the handler's. Its key policy must let
	// CloudWatch Logs (logs.<region>.amazonaws.com) use it.
	//
	// Default: nil, CloudWatch Logs' own encryption.
	LogEncryptionKey awskms.IKey

	// ExistingWebAclArn associates a regional WAF web ACL of yours with the stage instead of
	// the one the ingress would create; its rules, logging and alarms are yours, so
	// WafRateLimit, MaxBodyBytes, WafBlockedThreshold, RedactedHeaders and the routes'
	// WafRateLimit and SourceIps are errors beside it, as is NoWebAcl.
	//
	// Default: nil, the ingress creates its web ACL.
	ExistingWebAclArn *string

	// NoWebAcl creates no web ACL and associates none, for a caller that attaches its own
	// (a firewall manager policy, say). The same props as with ExistingWebAclArn are errors
	// beside it.
	//
	// Default: false, the ingress creates its web ACL.
	NoWebAcl *bool

	// RedactedHeaders are the request headers (lower case) the WAF log never records:
	// credentials and signatures.
	//
	// Default: DefaultRedactedHeaders() (x-api-key and the Standard Webhooks and Stripe
	// signature headers).
	RedactedHeaders *[]*string

	// RemovalPolicy of the access log group (and, unless
	// Handler.RemovalPolicy is set, of the handler's log group): DESTROY,
	// RETAIN or RETAIN_ON_UPDATE_OR_DELETE.
	//
	// Default: awscdk.RemovalPolicy_DESTROY (DefaultRemovalPolicy).
	RemovalPolicy awscdk.RemovalPolicy

	// CloudWatchRole makes the API create the account-level IAM role (and
	// AWS::ApiGateway::Account setting) API Gateway needs to write
	// execution and access logs; both are retained when the stack is
	// deleted, so deleting one stack never breaks another's logging. Set
	// it to false where the account's API Gateway CloudWatch role is
	// managed elsewhere (e.g. by a landing zone).
	//
	// Default: true (DefaultCloudWatchRole).
	CloudWatchRole *bool

	// Routes are literal paths under Path, one per sender that needs its own:
	// POST /<Path>/<Route.Name>, with or without an API key (see Route).
	//
	// Default: none, only POST /<Path>.
	Routes []*Route

	// ApiKeys are the API keys, each with a usage plan of its own (throttle
	// and daily quota): one per keyed sender, so that one holder cannot spend
	// another's quota.
	//
	// Default: one key (ApiKeyName, QuotaPerDay, ThrottleRateLimit,
	// ThrottleBurstLimit).
	ApiKeys []*ApiKeySpec

	// MaxBodyBytes is the largest body WAF lets through, by the request's
	// Content-Length: a larger one is blocked before it reaches the handler.
	// 1..10485760 (API Gateway's payload limit).
	//
	// Default: no limit in WAF (API Gateway's 10 MB).
	MaxBodyBytes *float64

	// WafBlockedThreshold is the number of requests WAF blocks within 5
	// minutes that sets off WafBlockedAlarm; a whole number, at least 1.
	//
	// Default: 1000 (DefaultWafBlockedThreshold).
	WafBlockedThreshold *float64

	// AlarmTopic receives the ALARM and OK notifications of the API alarms,
	// and of the handler's alarms unless Handler.AlarmTopic is set.
	//
	// Default: nil, alarms have no actions.
	AlarmTopic awssns.ITopic

	// Server5xxThreshold is the number of 5XX responses of the stage within
	// 5 minutes that sets off Server5xxAlarm; a whole number, at least 1.
	//
	// Default: 1 (DefaultServer5xxThreshold).
	Server5xxThreshold *float64

	// LatencyP99Threshold is the stage's p99 latency within 5 minutes that
	// sets off LatencyAlarm; at least 1 ms.
	//
	// Default: 2 seconds (DefaultLatencyP99ThresholdSeconds).
	LatencyP99Threshold awscdk.Duration

	// ApiKeyName is the name of the API key.
	//
	// Default: a name generated by CloudFormation.
	ApiKeyName *string

	// UsagePlanName is the name of the usage plan.
	//
	// Default: no name.
	UsagePlanName *string

	// TraceSampling, when set, decides which requests X-Ray traces with a sampling rule
	// of the stage's own (see TraceSampling); both rates 0 turns tracing off on the stage.
	// Set Handler.Tracing to PASS_THROUGH to trace exactly what the stage sampled.
	//
	// Default: nil, tracing on with X-Ray's default rule (1 request a second, then 5 %).
	TraceSampling *TraceSampling
}

// TraceSampling is an X-Ray sampling rule for the API stage (service name
// "<api name>/<stage>"): ReservoirPerSecond requests a second are traced, then
// FixedRate of the rest.
type TraceSampling struct {
	// ReservoirPerSecond is how many requests a second are traced before FixedRate
	// applies; a whole number, at least 0.
	ReservoirPerSecond float64
	// FixedRate is the share of the remaining requests traced, from 0 to 1.
	FixedRate float64
	// RuleName is the sampling rule's name, unique in the account and region: 1 to 32
	// letters, digits, '-' or '_'.
	//
	// Default: a name unique in the app, from the construct's path.
	RuleName *string
	// Priority orders the rule among the account's (1 first, up to 9999; X-Ray's
	// default rule comes last).
	//
	// Default: 1000 (DefaultTracePriority).
	Priority *float64
}

// Off reports whether the sampling traces nothing.
func (t *TraceSampling) Off() bool { return t != nil && t.ReservoirPerSecond == 0 && t.FixedRate == 0 }

// problems adds the sampling's problems.
func (t *TraceSampling) problems(add func(string, ...any)) {
	if t == nil {
		return
	}
	if t.ReservoirPerSecond < 0 || !check.Whole(t.ReservoirPerSecond) {
		add("TraceSampling.ReservoirPerSecond %v must be a whole number >= 0", t.ReservoirPerSecond)
	}
	if t.FixedRate < 0 || t.FixedRate > 1 {
		add("TraceSampling.FixedRate %v must be between 0 and 1", t.FixedRate)
	}
	if n := t.RuleName; n != nil && !check.Unresolved(n) && !check.Chars(*n, 1, 32, "-_") {
		add("TraceSampling.RuleName %q must be 1..32 letters, digits, '-' or '_'", *n)
	}
	if pr := t.Priority; pr != nil && (*pr < 1 || *pr > 9999 || !check.Whole(*pr)) {
		add("TraceSampling.Priority %v must be a whole number between 1 and 9999", *pr)
	}
}

// Validate reports every problem of the props, the handler's included
// (prefixed "Handler."), in one error (errors.Join of one error per
// problem, each starting with the field's name), or nil. It creates no
// resources. NewWebhookIngress panics with this error.
func (p *WebhookIngressProps) Validate() error {
	if p == nil {
		return errors.New("WebhookIngressProps are required (Handler.CodeDir at least)")
	}
	errs := check.Prefixed("Handler.", p.Handler.Validate())
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if n := p.ApiName; n != nil && !check.Unresolved(n) && (len(*n) == 0 || len(*n) > 1024) {
		add("ApiName %q must be 1..1024 characters", *n)
	}
	if s := p.Path; s != nil && !check.Chars(*s, 1, 255, "._-~") {
		add("Path %q must be one path segment (no '/', no {parameter}): 1..255 letters, digits, '.', '_', '-' or '~'", *s)
	}
	if s := p.StageName; s != nil && !check.Chars(*s, 1, 128, "_-") {
		add("StageName %q must be 1..128 letters, digits, '_' or '-'", *s)
	}
	if r := p.ThrottleRateLimit; r != nil && *r <= 0 {
		add("ThrottleRateLimit %v must be greater than 0", *r)
	}
	if b := p.ThrottleBurstLimit; b != nil && (*b < 1 || !check.Whole(*b)) {
		add("ThrottleBurstLimit %v must be a whole number >= 1", *b)
	}
	if q := p.QuotaPerDay; q != nil && (*q < 1 || !check.Whole(*q)) {
		add("QuotaPerDay %v must be a whole number >= 1", *q)
	}
	if w := p.WafRateLimit; w != nil && (*w < MinWafRateLimit || *w > MaxWafRateLimit || !check.Whole(*w)) {
		add("WafRateLimit %v must be a whole number between %d and %d (requests per 5 minutes per IP)", *w, MinWafRateLimit, MaxWafRateLimit)
	}
	if err := check.RemovalPolicy(p.RemovalPolicy); err != nil {
		add("RemovalPolicy %w", err)
	}
	if s := p.Server5xxThreshold; s != nil && (*s < 1 || !check.Whole(*s)) {
		add("Server5xxThreshold %v must be a whole number >= 1", *s)
	}
	if l := p.LatencyP99Threshold; l != nil && check.Millis(l) < 1 {
		add("LatencyP99Threshold %s must be at least 1 ms", check.Human(l))
	}
	if b := p.MaxBodyBytes; b != nil && (*b < 1 || *b > MaxPayloadBytes || !check.Whole(*b)) {
		add("MaxBodyBytes %v must be a whole number between 1 and %d (API Gateway's payload limit)", *b, MaxPayloadBytes)
	}
	if w := p.WafBlockedThreshold; w != nil && (*w < 1 || !check.Whole(*w)) {
		add("WafBlockedThreshold %v must be a whole number >= 1", *w)
	}
	if r := p.RedactedHeaders; r != nil {
		if len(*r) > MaxRedactedFields {
			add("RedactedHeaders has %d headers; WAF redacts at most %d fields", len(*r), MaxRedactedFields)
		}
		for i, h := range *r {
			if h == nil || !headerName.MatchString(*h) {
				name := "<nil>"
				if h != nil {
					name = *h
				}
				add("RedactedHeaders[%d] %q must be a lower-case header name", i, name)
			}
		}
	}
	p.webAclProblems(add)
	p.TraceSampling.problems(add)
	if t, n := p.TraceSampling, p.ApiName; t != nil && !t.Off() && n != nil && !check.Unresolved(n) {
		stage := DefaultStageName
		if p.StageName != nil {
			stage = *p.StageName
		}
		if l := len(*n) + 1 + len(stage); l > MaxTraceServiceName {
			add("ApiName and StageName: the sampling rule's service name %q is %d characters, X-Ray allows %d", *n+"/"+stage, l, MaxTraceServiceName)
		}
	}
	errs = append(errs, validateRoutes(p.Routes)...)
	errs = append(errs, validateKeys(p.ApiKeys)...)
	return errors.Join(errs...)
}

// WithDefaults returns a copy of the props with every unset optional field
// of the ingress set to its default. The handler's own defaults are left to
// alarmedfunction, except that it inherits AlarmTopic and RemovalPolicy
// when it sets neither. It does not validate.
func (p WebhookIngressProps) WithDefaults() WebhookIngressProps {
	if p.Handler.AlarmTopic == nil {
		p.Handler.AlarmTopic = p.AlarmTopic
	}
	if p.Path == nil {
		p.Path = jsii.String(DefaultPath)
	}
	if p.StageName == nil {
		p.StageName = jsii.String(DefaultStageName)
	}
	if p.ThrottleRateLimit == nil {
		p.ThrottleRateLimit = jsii.Number(DefaultThrottleRateLimit)
	}
	if p.ThrottleBurstLimit == nil {
		p.ThrottleBurstLimit = jsii.Number(DefaultThrottleBurstLimit)
	}
	if p.QuotaPerDay == nil {
		p.QuotaPerDay = jsii.Number(DefaultQuotaPerDay)
	}
	if p.WafRateLimit == nil {
		p.WafRateLimit = jsii.Number(DefaultWafRateLimit)
	}
	if p.AccessLogRetention == "" {
		p.AccessLogRetention = DefaultAccessLogRetention
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = DefaultRemovalPolicy
	}
	if p.RedactedHeaders == nil {
		p.RedactedHeaders = jsii.Strings(DefaultRedactedHeaders()...)
	}
	if p.Handler.LogEncryptionKey == nil {
		p.Handler.LogEncryptionKey = p.LogEncryptionKey
	}
	if p.Handler.RemovalPolicy == "" {
		p.Handler.RemovalPolicy = p.RemovalPolicy
	}
	if p.CloudWatchRole == nil {
		p.CloudWatchRole = jsii.Bool(DefaultCloudWatchRole)
	}
	if p.WafBlockedThreshold == nil {
		p.WafBlockedThreshold = jsii.Number(DefaultWafBlockedThreshold)
	}
	if p.Server5xxThreshold == nil {
		p.Server5xxThreshold = jsii.Number(DefaultServer5xxThreshold)
	}
	if p.LatencyP99Threshold == nil {
		p.LatencyP99Threshold = awscdk.Duration_Seconds(jsii.Number(DefaultLatencyP99ThresholdSeconds))
	}
	p.ApiKeys = slices.Clone(p.ApiKeys)
	if len(p.ApiKeys) == 0 {
		p.ApiKeys = []*ApiKeySpec{{Name: p.ApiKeyName, QuotaPerDay: p.QuotaPerDay}}
	}
	for i, k := range p.ApiKeys {
		k := *k
		if k.QuotaPerDay == nil {
			k.QuotaPerDay = p.QuotaPerDay
		}
		if k.ThrottleRateLimit == nil {
			k.ThrottleRateLimit = p.ThrottleRateLimit
		}
		if k.ThrottleBurstLimit == nil {
			k.ThrottleBurstLimit = p.ThrottleBurstLimit
		}
		p.ApiKeys[i] = &k
	}
	p.Routes = routesWithDefaults(p)
	return p
}

// ownWebAcl reports whether the ingress creates its web ACL (neither ExistingWebAclArn nor
// NoWebAcl).
func (p WebhookIngressProps) ownWebAcl() bool {
	return p.ExistingWebAclArn == nil && (p.NoWebAcl == nil || !*p.NoWebAcl)
}

// webAclProblems reports an existing web ACL (or none) given with the props of the web ACL
// the ingress would create.
func (p *WebhookIngressProps) webAclProblems(add func(format string, a ...any)) {
	if p.ownWebAcl() {
		return
	}
	which := "NoWebAcl"
	if p.ExistingWebAclArn != nil {
		which = "ExistingWebAclArn"
		if p.NoWebAcl != nil && *p.NoWebAcl {
			add("ExistingWebAclArn and NoWebAcl: give one")
		}
		if a := *p.ExistingWebAclArn; !check.Unresolved(p.ExistingWebAclArn) && !strings.Contains(a, ":regional/webacl/") {
			add("ExistingWebAclArn %q must be a regional web ACL's ARN (arn:…:wafv2:<region>:<account>:regional/webacl/<name>/<id>)", a)
		}
	}
	for _, q := range []struct {
		name string
		set  bool
	}{{"WafRateLimit", p.WafRateLimit != nil}, {"MaxBodyBytes", p.MaxBodyBytes != nil},
		{"WafBlockedThreshold", p.WafBlockedThreshold != nil}, {"RedactedHeaders", p.RedactedHeaders != nil}} {
		if q.set {
			add("%s and %s: %s belongs to the web ACL the ingress would create", which, q.name, q.name)
		}
	}
	for i, r := range p.Routes {
		if r != nil && (r.WafRateLimit != nil || len(r.SourceIps) > 0) {
			add("%s and Routes[%d]: a route's WafRateLimit and SourceIps are rules of the web ACL the ingress would create", which, i)
		}
	}
}
