package webhookingress

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/internal/check"
	"github.com/payhook/payhook/internal/alarm"
)

// WebhookIngress is a regional REST API that accepts POST /<Path> for
// server-to-server webhooks: API key required (with a usage plan's throttle
// and daily quota); with ProviderRoute also POST /<Path>/{provider} for
// senders that sign but cannot send an API key; Lambda proxy integration on an AlarmedFunction's "live"
// alias (the handler's statusCode is the HTTP status), stage throttling,
// JSON access logs, execution logs at ERROR without request or response
// bodies, X-Ray tracing, a WAF WebACL (per-IP rate limit and AWS managed
// rule groups; no Bot Control, as every webhook sender is a bot), and alarms
// on 5XX responses and p99 latency. There is no CORS: browsers are not
// callers.
type WebhookIngress struct {
	constructs.Construct

	// Api is the REST API.
	Api awsapigateway.RestApi
	// Stage is the API's deployment stage.
	Stage awsapigateway.Stage
	// Resource is the /<Path> resource.
	Resource awsapigateway.Resource
	// Method is POST /<Path>, behind the API key.
	Method awsapigateway.Method
	// ProviderResource is /<Path>/{provider}; nil unless ProviderRoute.
	ProviderResource awsapigateway.Resource
	// ProviderMethod is POST /<Path>/{provider}, without an API key (the
	// handler authenticates each request by its signature); nil unless
	// ProviderRoute.
	ProviderMethod awsapigateway.Method
	// ApiKey is the key callers send in the x-api-key header.
	ApiKey awsapigateway.ApiKey
	// UsagePlan throttles ApiKey and caps its daily requests on Stage.
	UsagePlan awsapigateway.UsagePlan
	// WebAcl is the regional WAF WebACL protecting Stage.
	WebAcl awswafv2.CfnWebACL
	// WebAclAssociation associates WebAcl with Stage.
	WebAclAssociation awswafv2.CfnWebACLAssociation
	// AccessLogGroup receives the stage's JSON access logs.
	AccessLogGroup awslogs.LogGroup
	// WafLogGroup receives WebAcl's records of blocked and counted requests
	// (aws-waf-logs-<unique name>, RedactedHeaders redacted, AccessLogRetention).
	WafLogGroup awslogs.LogGroup
	// WafLogging sends WebAcl's logs to WafLogGroup.
	WafLogging awswafv2.CfnLoggingConfiguration
	// Handler is the function behind POST /<Path>, invoked through
	// Handler.Alias.
	Handler *alarmedfunction.AlarmedFunction
	// Server5xxAlarm fires when the stage returns Server5xxThreshold or
	// more 5XX responses within 5 minutes.
	Server5xxAlarm awscloudwatch.Alarm
	// LatencyAlarm fires when the stage's p99 latency within 5 minutes
	// reaches LatencyP99Threshold.
	LatencyAlarm awscloudwatch.Alarm
	// Alarms lists every alarm of the ingress: the two API alarms above,
	// then Handler.Alarms. Any of them may be added to
	// Handler.DeploymentGroup: the API alarms name the stage by its literal
	// name, so they do not depend on the Stage and close no cycle through the
	// alias's UpdatePolicy.
	Alarms []awscloudwatch.IAlarm
}

// NewWebhookIngress creates a WebhookIngress. It validates props first (the
// handler's included) and panics, before creating anything, with an error
// listing every problem (see WebhookIngressProps.Validate).
func NewWebhookIngress(scope constructs.Construct, id string, props *WebhookIngressProps) *WebhookIngress {
	if err := props.Validate(); err != nil {
		panic(fmt.Errorf("webhookingress %q: invalid props:\n%w", id, err))
	}
	p := props.WithDefaults()

	c := constructs.NewConstruct(scope, jsii.String(id))
	w := &WebhookIngress{Construct: c}
	if p.ApiName == nil {
		p.ApiName = awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{
			MaxLength: jsii.Number(128),
			Separator: jsii.String("-"),
		})
	}

	w.Handler = alarmedfunction.NewAlarmedFunction(c, "Handler", &p.Handler)
	if t := check.Seconds(p.Handler.WithDefaults().Timeout); t > IntegrationTimeoutSeconds {
		awscdk.Annotations_Of(c).AddWarningV2(jsii.String("payhook:webhookingress:handler-timeout"), jsii.String(fmt.Sprintf(
			"Handler.Timeout %g s exceeds API Gateway's %d s integration timeout: callers get 504 while the handler still runs",
			t, IntegrationTimeoutSeconds)))
	}

	w.AccessLogGroup = awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     p.AccessLogRetention,
		RemovalPolicy: p.RemovalPolicy,
		EncryptionKey: p.LogEncryptionKey,
	})

	w.Api = newRestAPI(c, p, w.AccessLogGroup)
	w.Stage = w.Api.DeploymentStage()

	w.Resource = w.Api.Root().AddResource(p.Path, nil)
	// No test-invoke permission: the console's test invocations would bypass the API key,
	// the usage plan and WAF.
	integration := awsapigateway.NewLambdaIntegration(w.Handler.Alias, &awsapigateway.LambdaIntegrationOptions{
		Proxy: jsii.Bool(true), AllowTestInvoke: jsii.Bool(false)})
	w.Method = w.Resource.AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{
		ApiKeyRequired:    jsii.Bool(true),
		AuthorizationType: awsapigateway.AuthorizationType_NONE,
	})
	if *p.ProviderRoute {
		w.ProviderResource = w.Resource.AddResource(jsii.String("{provider}"), nil)
		w.ProviderMethod = w.ProviderResource.AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{
			ApiKeyRequired:    jsii.Bool(false),
			AuthorizationType: awsapigateway.AuthorizationType_NONE,
			RequestParameters: &map[string]*bool{"method.request.path.provider": jsii.Bool(true)},
		})
	}

	w.ApiKey = awsapigateway.NewApiKey(c, jsii.String("ApiKey"), &awsapigateway.ApiKeyProps{
		ApiKeyName:  p.ApiKeyName,
		Description: jsii.String(fmt.Sprintf("Webhook senders' key for %s", *c.Node().Path())),
		Enabled:     jsii.Bool(true),
	})
	w.UsagePlan = awsapigateway.NewUsagePlan(c, jsii.String("UsagePlan"), &awsapigateway.UsagePlanProps{
		Name: p.UsagePlanName,
		Throttle: &awsapigateway.ThrottleSettings{
			RateLimit:  p.ThrottleRateLimit,
			BurstLimit: p.ThrottleBurstLimit,
		},
		Quota: &awsapigateway.QuotaSettings{
			Limit:  p.QuotaPerDay,
			Period: awsapigateway.Period_DAY,
		},
		ApiStages: &[]*awsapigateway.UsagePlanPerApiStage{{Api: w.Api, Stage: w.Stage}},
	})
	w.UsagePlan.AddApiKey(w.ApiKey, nil)

	limitInvokeToAccount(c, w.Api)
	w.WebAcl, w.WebAclAssociation = newWebACL(c, w.Api, w.Stage, *p.WafRateLimit)
	w.WafLogGroup, w.WafLogging = newWafLogging(c, w.WebAcl, p)

	w.addAlarms(c, p)
	w.Alarms = append([]awscloudwatch.IAlarm{w.Server5xxAlarm, w.LatencyAlarm}, w.Handler.Alarms...)
	return w
}

// newRestAPI creates the regional REST API and its deployment stage: JSON access logs,
// execution logs at ERROR without bodies, metrics, X-Ray, stage throttling.
func newRestAPI(c constructs.Construct, p WebhookIngressProps, accessLogs awslogs.LogGroup) awsapigateway.RestApi {
	var roleRemoval awscdk.RemovalPolicy // only allowed with the role
	if *p.CloudWatchRole {
		roleRemoval = awscdk.RemovalPolicy_RETAIN
	}
	return awsapigateway.NewRestApi(c, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName: p.ApiName,
		Description: p.Description,
		EndpointConfiguration: &awsapigateway.EndpointConfiguration{
			Types: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		},
		CloudWatchRole:              p.CloudWatchRole,
		CloudWatchRoleRemovalPolicy: roleRemoval,
		ApiKeySourceType:            awsapigateway.ApiKeySourceType_HEADER,
		Deploy:                      jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            p.StageName,
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller:         jsii.Bool(true),
				HttpMethod:     jsii.Bool(true),
				Ip:             jsii.Bool(true),
				Protocol:       jsii.Bool(true),
				RequestTime:    jsii.Bool(true),
				ResourcePath:   jsii.Bool(true),
				ResponseLength: jsii.Bool(true),
				Status:         jsii.Bool(true),
				User:           jsii.Bool(true),
			}),
			LoggingLevel: awsapigateway.MethodLoggingLevel_ERROR,
			// Payment bodies and headers are never logged.
			DataTraceEnabled:     jsii.Bool(false),
			MetricsEnabled:       jsii.Bool(true),
			TracingEnabled:       jsii.Bool(true),
			ThrottlingRateLimit:  p.ThrottleRateLimit,
			ThrottlingBurstLimit: p.ThrottleBurstLimit,
		},
	})
}

// addAlarms creates the API's 5XX and p99 latency alarms (see stageMetric).
func (w *WebhookIngress) addAlarms(c constructs.Construct, p WebhookIngressProps) {
	path := *c.Node().Path()
	w.Server5xxAlarm = alarm.New(c, "Server5xxAlarm", w.stageMetric("5XXError", "Sum", *p.StageName),
		*p.Server5xxThreshold,
		fmt.Sprintf("%s: %g or more 5XX responses in %d minutes", path, *p.Server5xxThreshold, AlarmPeriodMinutes), p.AlarmTopic)
	latencyMs := check.Millis(p.LatencyP99Threshold)
	w.LatencyAlarm = alarm.New(c, "LatencyAlarm",
		w.stageMetric("Latency", "p99", *p.StageName),
		latencyMs,
		fmt.Sprintf("%s: p99 latency at or above %g ms over %d minutes", path, latencyMs, AlarmPeriodMinutes), p.AlarmTopic)

}

// ProviderURL returns the endpoint of one provider on the provider route
// (ProviderRoute), e.g. https://<id>.execute-api.<region>.amazonaws.com/v1/webhooks/stripe.
func (w *WebhookIngress) ProviderURL(provider string) *string {
	return jsii.String(*w.URL() + "/" + provider)
}

// URL returns the webhook endpoint: the stage URL followed by the path,
// e.g. https://<id>.execute-api.<region>.amazonaws.com/v1/webhooks.
func (w *WebhookIngress) URL() *string {
	return w.Stage.UrlForPath(w.Resource.Path())
}

// stageMetric is one of the stage's API Gateway metrics, with the stage's dimensions given
// as the literal API and stage names rather than as references to the Stage resource. An
// alarm on it therefore does not depend on the stage, so it can sit in the handler's
// CodeDeploy deployment group: the alias's UpdatePolicy refers to the group, the group to
// its alarms, and the stage (through the deployment and the method's integration) to the
// alias; a reference from the alarm back to the stage would close that loop into a
// dependency cycle that CloudFormation refuses.
func (w *WebhookIngress) stageMetric(name, statistic, stageName string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String("AWS/ApiGateway"),
		MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{
			"ApiName": w.Api.RestApiName(),
			"Stage":   jsii.String(stageName),
		},
		Statistic: jsii.String(statistic),
		Period:    alarmPeriod(),
	})
}

func alarmPeriod() awscdk.Duration {
	return awscdk.Duration_Minutes(jsii.Number(AlarmPeriodMinutes))
}

// newWebACL creates the regional WebACL and associates it with the stage.
func newWebACL(c constructs.Construct, api awsapigateway.RestApi, stage awsapigateway.Stage, rateLimit float64) (awswafv2.CfnWebACL, awswafv2.CfnWebACLAssociation) {
	// WAF metric names are at most 128 characters: leave room for the
	// longest rule name.
	prefix := *awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(80)})
	visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			SampledRequestsEnabled:   jsii.Bool(true),
			MetricName:               jsii.String(prefix + "-" + name),
		}
	}
	managed := func(priority float64, name string) *awswafv2.CfnWebACL_RuleProperty {
		stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{
			VendorName: jsii.String(managedRuleVendorAWS),
			Name:       jsii.String(name),
		}
		if name == RuleCommon {
			// The common rule set blocks bodies over 8 KB (SizeRestrictions_BODY). The
			// handler enforces its own body limit with a 413 that names it; a WAF 403 would
			// hide that and refuse legitimate larger webhooks. Count instead of block.
			stmt.RuleActionOverrides = &[]any{&awswafv2.CfnWebACL_RuleActionOverrideProperty{
				Name:        jsii.String("SizeRestrictions_BODY"),
				ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}},
			}}
		}
		return &awswafv2.CfnWebACL_RuleProperty{
			Name:      jsii.String(name),
			Priority:  jsii.Number(priority),
			Statement: &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
			// Keep the rule group's own actions (block).
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			VisibilityConfig: visibility(name),
		}
	}
	acl := awswafv2.NewCfnWebACL(c, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: visibility("WebAcl"),
		Rules: &[]any{
			&awswafv2.CfnWebACL_RuleProperty{
				Name:     jsii.String(RuleRateLimit),
				Priority: jsii.Number(1),
				Statement: &awswafv2.CfnWebACL_StatementProperty{
					RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
						Limit:               jsii.Number(rateLimit),
						AggregateKeyType:    jsii.String("IP"),
						EvaluationWindowSec: jsii.Number(WafRateWindowSeconds),
					},
				},
				Action:           &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
				VisibilityConfig: visibility(RuleRateLimit),
			},
			managed(2, RuleCommon),
			managed(3, RuleKnownBadInputs),
			managed(4, RuleIPReputation),
		},
	})

	// The stage's ARN refers to the stage, so CloudFormation creates the stage first.
	assoc := awswafv2.NewCfnWebACLAssociation(c, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: stage.StageArn(),
		WebAclArn:   acl.AttrArn(),
	})
	return acl, assoc
}

// limitInvokeToAccount names the API's own account (aws:SourceAccount) on every invoke
// permission the API's methods hold, besides the API's ARN (aws:SourceArn): AWS Control
// Tower's CT.LAMBDA.PR.2 accepts a service principal only with a literal source.
func limitInvokeToAccount(c constructs.Construct, api awsapigateway.RestApi) {
	account := awscdk.Stack_Of(c).Account()
	for _, child := range *api.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if p, ok := child.(awslambda.CfnPermission); ok && *awscdk.CfnResource_IsCfnResource(child) &&
			*p.CfnResourceType() == "AWS::Lambda::Permission" {
			p.SetSourceAccount(account)
		}
	}
}
