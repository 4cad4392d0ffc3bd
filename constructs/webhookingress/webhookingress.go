package webhookingress

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsxray"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarm"
	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/internal/check"
)

// WebhookIngress is a regional REST API that accepts POST /<Path> for
// server-to-server webhooks: API key required, a key per sender each with a
// usage plan of its own (throttle and daily quota); Routes add a literal
// POST /<Path>/<name> per sender that needs one, keyed or keyless (for
// senders that sign but cannot send an API key), with its own throttle; Lambda
// proxy integration on an AlarmedFunction's "live" alias (the handler's
// statusCode is the HTTP status), stage throttling, JSON access logs,
// execution logs at ERROR without request or response bodies, X-Ray
// tracing, a WAF WebACL (per-IP rate limits, per-route source addresses, a
// body-size limit, AWS managed rule groups whose body rules count instead of
// block; no Bot Control, as every webhook sender is a bot), and alarms on 5XX
// responses, p99 latency and requests WAF blocks. There is no CORS: browsers
// are not callers.
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
	// RouteResources and RouteMethods are each route's /<Path>/<name> and its
	// POST, by route name.
	RouteResources map[string]awsapigateway.Resource
	RouteMethods   map[string]awsapigateway.Method
	// ApiKeys are the keys callers send in the x-api-key header, by name
	// ("" for an unnamed one), and UsagePlans their usage plans.
	ApiKeys    map[string]awsapigateway.ApiKey
	UsagePlans map[string]awsapigateway.UsagePlan
	// ApiKey and UsagePlan are the first of ApiKeys and UsagePlans.
	ApiKey    awsapigateway.ApiKey
	UsagePlan awsapigateway.UsagePlan
	// WebAcl is the regional WAF WebACL protecting Stage (nil with ExistingWebAclArn or
	// NoWebAcl, as are WafLogGroup, WafLogging and WafBlockedAlarm).
	WebAcl awswafv2.CfnWebACL
	// SourceIpSets are the WAF IP sets of the routes with SourceIps, by
	// route: the IPv4 set, then the IPv6 set, each only if it has addresses.
	SourceIpSets map[string][]awswafv2.CfnIPSet
	// WebAclAssociation associates WebAcl with Stage.
	WebAclAssociation awswafv2.CfnWebACLAssociation
	// SamplingRule is the stage's X-Ray sampling rule (nil unless TraceSampling is set and
	// traces something).
	SamplingRule awsxray.CfnSamplingRule
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
	// WafBlockedAlarm fires when WAF blocks WafBlockedThreshold or more
	// requests within 5 minutes: an attack, or genuine senders refused.
	WafBlockedAlarm awscloudwatch.Alarm
	// wafName is WebAcl's name (WafMetric's WebACL dimension).
	wafName string
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
		awscdk.Annotations_Of(c).AddWarningV2(jsii.String(HandlerTimeoutWarning), jsii.String(fmt.Sprintf(
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
	w.SamplingRule = newSamplingRule(c, p, w.Api)
	// RestApi adds an output of the stage's root URL, which is not where anything posts (the
	// routes are under Path): URL and RouteURL are, for the stack to name as it likes.
	w.Api.Node().TryRemoveChild(jsii.String("Endpoint"))

	w.Resource = w.Api.Root().AddResource(p.Path, nil)
	// No test-invoke permission: the console's test invocations would bypass the API key,
	// the usage plan and WAF.
	integration := awsapigateway.NewLambdaIntegration(w.Handler.Alias, &awsapigateway.LambdaIntegrationOptions{
		Proxy: jsii.Bool(true), AllowTestInvoke: jsii.Bool(false)})
	w.Method = w.Resource.AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{
		ApiKeyRequired:    jsii.Bool(true),
		AuthorizationType: awsapigateway.AuthorizationType_NONE,
	})
	w.addRoutes(p, integration)
	w.addKeys(c, p)
	limitInvokeToAccount(c, w.Api)
	switch {
	case p.ownWebAcl():
		w.newWebACL(c, p)
		w.WafLogGroup, w.WafLogging = newWafLogging(c, w.WebAcl, p)
	case p.ExistingWebAclArn != nil:
		w.WebAclAssociation = awswafv2.NewCfnWebACLAssociation(c, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
			ResourceArn: w.Stage.StageArn(),
			WebAclArn:   p.ExistingWebAclArn,
		})
	}

	w.addAlarms(c, p)
	w.Alarms = []awscloudwatch.IAlarm{w.Server5xxAlarm, w.LatencyAlarm}
	if w.WafBlockedAlarm != nil {
		w.Alarms = append(w.Alarms, w.WafBlockedAlarm)
	}
	w.Alarms = append(w.Alarms, w.Handler.Alarms...)
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
			TracingEnabled:       jsii.Bool(!p.TraceSampling.Off()),
			ThrottlingRateLimit:  p.ThrottleRateLimit,
			ThrottlingBurstLimit: p.ThrottleBurstLimit,
			MethodOptions:        methodThrottles(p),
		},
	})
}

// newSamplingRule creates the X-Ray sampling rule of the API's stage, or nil (X-Ray's
// default rule applies, or tracing is off).
func newSamplingRule(c constructs.Construct, p WebhookIngressProps, api awsapigateway.RestApi) awsxray.CfnSamplingRule {
	t := p.TraceSampling
	if t == nil || t.Off() {
		return nil
	}
	name, priority := t.RuleName, t.Priority
	if name == nil {
		name = awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(32)})
	}
	if priority == nil {
		priority = jsii.Number(DefaultTracePriority)
	}
	return awsxray.NewCfnSamplingRule(c, jsii.String("SamplingRule"), &awsxray.CfnSamplingRuleProps{
		SamplingRule: &awsxray.CfnSamplingRule_SamplingRuleProperty{
			RuleName:      name,
			Priority:      priority,
			ReservoirSize: jsii.Number(t.ReservoirPerSecond),
			FixedRate:     jsii.Number(t.FixedRate),
			// API Gateway names a stage's service "<api name>/<stage>".
			ServiceName: awscdk.Fn_Join(jsii.String("/"), &[]*string{api.RestApiName(), p.StageName}),
			ServiceType: jsii.String("AWS::ApiGateway::Stage"),
			Host:        jsii.String("*"),
			HttpMethod:  jsii.String("*"),
			UrlPath:     jsii.String("*"),
			ResourceArn: jsii.String("*"),
			Version:     jsii.Number(1),
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
	if w.WebAcl == nil {
		return // the web ACL, and its alarm, are the caller's
	}
	w.WafBlockedAlarm = alarm.New(c, "WafBlockedAlarm", w.WafMetric("BlockedRequests", "ALL"), *p.WafBlockedThreshold,
		fmt.Sprintf("%s: WAF blocked %g or more requests in %d minutes (an attack, or genuine senders refused: see its logs)",
			path, *p.WafBlockedThreshold, AlarmPeriodMinutes), p.AlarmTopic)
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
