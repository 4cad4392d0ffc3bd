package webhookingress

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Secure and operational defaults of the construct, kept in one place. Every
// optional field of WebhookIngressProps falls back to one of these values.
const (
	// DefaultTracePriority is the priority of the stage's X-Ray sampling rule.
	DefaultTracePriority = 1000
	// MaxTraceServiceName is the longest service name an X-Ray sampling rule matches.
	MaxTraceServiceName = 64
	// DefaultPath is the single path segment that receives webhooks.
	DefaultPath = "webhooks"
	// DefaultStageName is the API Gateway stage name.
	DefaultStageName = "v1"
	// DefaultThrottleRateLimit is the steady-state request rate, per
	// second, of the stage and of the usage plan.
	DefaultThrottleRateLimit = 50
	// DefaultThrottleBurstLimit is the burst size of the stage and of the
	// usage plan.
	DefaultThrottleBurstLimit = 100
	// DefaultQuotaPerDay is the usage plan's requests per day per key.
	DefaultQuotaPerDay = 100000
	// DefaultWafRateLimit is the number of requests from one IP address in
	// WafRateWindowSeconds above which WAF blocks that address.
	DefaultWafRateLimit = 2000
	// MinWafRateLimit is the smallest rate limit AWS WAF accepts.
	MinWafRateLimit = 10
	// MaxWafRateLimit is the largest rate limit AWS WAF accepts.
	MaxWafRateLimit = 2000000000
	// WafRateWindowSeconds is the window of the WAF rate-based rule.
	WafRateWindowSeconds = 300
	// DefaultAccessLogRetention is how long the access log group keeps
	// events.
	DefaultAccessLogRetention = awslogs.RetentionDays_ONE_MONTH
	// DefaultRemovalPolicy applies to the access log group when the stack
	// deletes it.
	DefaultRemovalPolicy = awscdk.RemovalPolicy_DESTROY
	// DefaultServer5xxThreshold is the number of 5XX responses in
	// AlarmPeriodMinutes that sets off the 5XX alarm.
	DefaultServer5xxThreshold = 1
	// DefaultLatencyP99ThresholdSeconds is the p99 latency that sets off the
	// latency alarm.
	DefaultLatencyP99ThresholdSeconds = 2
	// DefaultCloudWatchRole makes the API create (and retain) the
	// account-level role API Gateway needs to write execution and access
	// logs.
	DefaultCloudWatchRole = true
	// DefaultWafBlockedThreshold is the number of requests WAF blocks in
	// AlarmPeriodMinutes that sets off the WAF alarm: scanners are blocked
	// all day, so only a surge (or genuine senders refused) should page.
	DefaultWafBlockedThreshold = 1000
	// MaxPayloadBytes is API Gateway's payload limit.
	MaxPayloadBytes = 10485760
	// IntegrationTimeoutSeconds is API Gateway's default integration
	// timeout; a handler timeout above it gets a synthesis warning.
	IntegrationTimeoutSeconds = 29
	// AlarmPeriodMinutes is the period of the API alarms' metrics.
	AlarmPeriodMinutes = 5
)

// Names of the WebACL's rules, in priority order.
const (
	// RuleRateLimit blocks an IP address above WafRateLimit requests in
	// WafRateWindowSeconds.
	RuleRateLimit = "RateLimitPerIp"
	// RuleCommon is AWS's core rule set (OWASP-style protections).
	RuleCommon = "AWSManagedRulesCommonRuleSet"
	// RuleKnownBadInputs is AWS's rule set against known exploit payloads.
	RuleKnownBadInputs = "AWSManagedRulesKnownBadInputsRuleSet"
	// RuleIPReputation is AWS's list of addresses with a bad reputation.
	RuleIPReputation = "AWSManagedRulesAmazonIpReputationList"
	// RuleBodySize blocks a request whose Content-Length exceeds MaxBodyBytes.
	RuleBodySize = "BodyLargerThanLimit"
)

// BodyRules returns the managed rules that judge the request body. They count
// instead of block: a webhook body is authenticated (its signature) and then
// parsed strictly by the handler, never rendered or executed, and a customer
// who types "<script>" or "${jndi:" into a checkout field must not have the
// payment event dropped with a 403 that the provider retries for days and
// then gives up. Rules on headers, the URI and addresses still block.
func BodyRules() map[string][]string {
	return map[string][]string{
		RuleCommon: {"SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY",
			"EC2MetaDataSSRF_BODY"},
		RuleKnownBadInputs: {"JavaDeserializationRCE_BODY", "Log4JRCE_BODY"},
	}
}

const managedRuleVendorAWS = "AWS"

// HandlerTimeoutWarning is the id of the warning NewWebhookIngress adds when the handler
// may run longer than API Gateway waits (IntegrationTimeoutSeconds).
const HandlerTimeoutWarning = "webhookingress:handler-timeout"

// MaxRedactedFields is the most fields a WAF logging configuration redacts.
const MaxRedactedFields = 100

// headerName is a lower-case HTTP header name.
var headerName = regexp.MustCompile(`^[a-z0-9!#$%&'*+.^_|~-]+$`)
