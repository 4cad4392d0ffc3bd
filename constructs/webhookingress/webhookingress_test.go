package webhookingress_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	tu "github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/constructs/webhookingress"
)

// app is the one App (and jsii runtime) of this test binary; each test
// builds its own stack on it.
var app = awscdk.NewApp(nil)

func synth(t *testing.T, props *webhookingress.WebhookIngressProps, extra func(awscdk.Stack, *webhookingress.WebhookIngressProps)) (*webhookingress.WebhookIngress, awscdk.Stack, tu.Template) {
	t.Helper()
	stack := tu.NewStack(app, t.Name())
	if props.Handler.CodeDir == nil {
		props.Handler.CodeDir = tu.CodeDir(t)
	}
	if extra != nil {
		extra(stack, props)
	}
	var w *webhookingress.WebhookIngress
	if msg := tu.Recover(func() { w = webhookingress.NewWebhookIngress(stack, "Ingress", props) }); msg != "" {
		t.Fatalf("NewWebhookIngress panicked: %s", msg)
	}
	return w, stack, tu.Synth(t, stack)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDefaults(t *testing.T) {
	// GIVEN only the handler's code
	// WHEN the ingress is synthesized
	w, stack, tpl := synth(t, &webhookingress.WebhookIngressProps{}, nil)

	// THEN the REST API is regional, with a unique name
	apiID, api := tpl.One(t, "AWS::ApiGateway::RestApi")
	assert.Equal(t, []any{"REGIONAL"}, tu.Get(api, "EndpointConfiguration", "Types"))
	assert.Equal(t, "HEADER", api["ApiKeySourceType"])
	name, _ := api["Name"].(string)
	assert.Contains(t, name, "Ingress")
	assert.NotEqual(t, "Api", name)

	// AND POST /webhooks requires an API key and proxies to the handler's alias
	resID, res := tpl.One(t, "AWS::ApiGateway::Resource")
	assert.Equal(t, "webhooks", res["PathPart"])
	_, m := tpl.One(t, "AWS::ApiGateway::Method")
	aliasID, _ := tpl.One(t, "AWS::Lambda::Alias")
	assert.Equal(t, "POST", m["HttpMethod"], "only POST; no CORS preflight (OPTIONS) method")
	assert.Equal(t, tu.Ref(resID), m["ResourceId"])
	assert.Equal(t, "NONE", m["AuthorizationType"])
	assert.Equal(t, true, m["ApiKeyRequired"])
	assert.Equal(t, "AWS_PROXY", tu.Get(m, "Integration", "Type"))
	assert.Equal(t, "POST", tu.Get(m, "Integration", "IntegrationHttpMethod"))
	assert.Contains(t, jsonOf(tu.Get(m, "Integration", "Uri")), `{"Ref":"`+aliasID+`"}`, "integration targets the alias")
	_, perm := tpl.Where(t, "AWS::Lambda::Permission", func(p map[string]any) bool {
		return p["Principal"] == "apigateway.amazonaws.com" && !strings.Contains(jsonOf(p["SourceArn"]), "test-invoke-stage")
	})
	assert.Equal(t, tu.Ref(aliasID), perm["FunctionName"], "API Gateway may invoke the alias")

	// AND the stage traces, logs access as JSON and never logs bodies, and throttles every method
	stageID, st := tpl.One(t, "AWS::ApiGateway::Stage")
	lgID, lg := accessLogGroup(t, tpl)
	assert.Equal(t, "v1", st["StageName"])
	assert.Equal(t, true, st["TracingEnabled"])
	assert.Equal(t, tu.GetAtt(lgID, "Arn"), tu.Get(st, "AccessLogSetting", "DestinationArn"))
	format, _ := tu.Get(st, "AccessLogSetting", "Format").(string)
	for _, field := range []string{"$context.requestId", "$context.identity.sourceIp", "$context.identity.caller", "$context.identity.user",
		"$context.requestTime", "$context.httpMethod", "$context.resourcePath", "$context.status", "$context.protocol", "$context.responseLength"} {
		assert.Contains(t, format, field)
	}
	assert.Equal(t, []any{map[string]any{
		"DataTraceEnabled":     false,
		"HttpMethod":           "*",
		"LoggingLevel":         "ERROR",
		"MetricsEnabled":       true,
		"ResourcePath":         "/*",
		"ThrottlingBurstLimit": float64(100),
		"ThrottlingRateLimit":  float64(50),
	}}, st["MethodSettings"])
	assert.EqualValues(t, 30, lg["RetentionInDays"])
	assert.Equal(t, "Delete", tu.Get(tpl.Resource(lgID), "DeletionPolicy"))

	// AND API Gateway gets its account-level CloudWatch role, retained
	accID, _ := tpl.One(t, "AWS::ApiGateway::Account")
	assert.Equal(t, "Retain", tu.Get(tpl.Resource(accID), "DeletionPolicy"))

	// AND a usage plan throttles the key and caps it per day on this stage
	keyID, key := tpl.One(t, "AWS::ApiGateway::ApiKey")
	assert.Equal(t, true, key["Enabled"])
	planID, plan := tpl.One(t, "AWS::ApiGateway::UsagePlan")
	assert.Equal(t, map[string]any{"RateLimit": float64(50), "BurstLimit": float64(100)}, plan["Throttle"])
	assert.Equal(t, map[string]any{"Limit": float64(100000), "Period": "DAY"}, plan["Quota"])
	require.Len(t, plan["ApiStages"], 1)
	assert.Equal(t, tu.Ref(apiID), tu.Get(plan, "ApiStages", 0, "ApiId"))
	assert.Equal(t, tu.Ref(stageID), tu.Get(plan, "ApiStages", 0, "Stage"))
	_, pk := tpl.One(t, "AWS::ApiGateway::UsagePlanKey")
	assert.Equal(t, tu.Ref(keyID), pk["KeyId"])
	assert.Equal(t, "API_KEY", pk["KeyType"])
	assert.Equal(t, tu.Ref(planID), pk["UsagePlanId"])

	// AND a regional WebACL allows by default and has the four rules, no Bot Control
	aclID, acl := tpl.One(t, "AWS::WAFv2::WebACL")
	assert.Equal(t, "REGIONAL", acl["Scope"])
	assert.Equal(t, map[string]any{"Allow": map[string]any{}}, acl["DefaultAction"])
	assert.NotNil(t, tu.Get(acl, "VisibilityConfig", "MetricName"))
	rules := map[string]map[string]any{}
	for _, r := range acl["Rules"].([]any) {
		rm := r.(map[string]any)
		rules[rm["Name"].(string)] = rm
		assert.Equal(t, true, tu.Get(rm, "VisibilityConfig", "CloudWatchMetricsEnabled"), rm["Name"])
		assert.Equal(t, true, tu.Get(rm, "VisibilityConfig", "SampledRequestsEnabled"), rm["Name"])
		metric, _ := tu.Get(rm, "VisibilityConfig", "MetricName").(string)
		assert.NotEmpty(t, metric, rm["Name"])
		assert.LessOrEqual(t, len(metric), 128, rm["Name"])
	}
	require.Len(t, rules, 4)
	rate := rules[webhookingress.RuleRateLimit]
	assert.EqualValues(t, 2000, tu.Get(rate, "Statement", "RateBasedStatement", "Limit"))
	assert.Equal(t, "IP", tu.Get(rate, "Statement", "RateBasedStatement", "AggregateKeyType"))
	assert.EqualValues(t, 300, tu.Get(rate, "Statement", "RateBasedStatement", "EvaluationWindowSec"))
	assert.Equal(t, map[string]any{"Block": map[string]any{}}, rate["Action"])
	for _, name := range []string{webhookingress.RuleCommon, webhookingress.RuleKnownBadInputs, webhookingress.RuleIPReputation} {
		r := rules[name]
		require.NotNil(t, r, name)
		assert.Equal(t, "AWS", tu.Get(r, "Statement", "ManagedRuleGroupStatement", "VendorName"), name)
		assert.Equal(t, name, tu.Get(r, "Statement", "ManagedRuleGroupStatement", "Name"), name)
		assert.Equal(t, map[string]any{"None": map[string]any{}}, r["OverrideAction"], name)
	}
	assert.NotContains(t, strings.ToLower(jsonOf(acl)), "botcontrol", "webhook senders are bots")
	// AND the rules that judge the body only count (an authenticated webhook body is parsed
	// strictly, never rendered: "<script>" in a checkout field must not drop the payment), the
	// 8 KB size rule among them (the handler's own limit answers 413)
	for group, body := range webhookingress.BodyRules() {
		var want []any
		for _, rule := range body {
			want = append(want, map[string]any{"Name": rule, "ActionToUse": map[string]any{"Count": map[string]any{}}})
		}
		assert.Equal(t, want, tu.Get(rules[group], "Statement", "ManagedRuleGroupStatement", "RuleActionOverrides"), group)
	}
	assert.Contains(t, webhookingress.BodyRules()[webhookingress.RuleCommon], "CrossSiteScripting_BODY")
	assert.Contains(t, webhookingress.BodyRules()[webhookingress.RuleKnownBadInputs], "Log4JRCE_BODY")

	// AND the WebACL is associated with the stage (its ARN refers to the stage, so the stage
	// is created first)
	_, assoc := tpl.One(t, "AWS::WAFv2::WebACLAssociation")
	assert.Equal(t, tu.GetAtt(aclID, "Arn"), assoc["WebACLArn"])
	arn := jsonOf(assoc["ResourceArn"])
	for _, part := range []string{`"arn:"`, `{"Ref":"AWS::Partition"}`, `":apigateway:"`, `{"Ref":"AWS::Region"}`,
		`"::/restapis/"`, `{"Ref":"` + apiID + `"}`, `"/stages/"`, `{"Ref":"` + stageID + `"}`} {
		assert.Contains(t, arn, part)
	}

	// AND the 5XX and p99 latency alarms watch this API's stage
	for metric, want := range map[string]float64{"5XXError": 1, "Latency": 2000} {
		a := tpl.AlarmOn(t, metric)
		assert.Equal(t, "AWS/ApiGateway", a["Namespace"], metric)
		assert.EqualValues(t, 300, a["Period"], metric)
		assert.EqualValues(t, want, a["Threshold"], metric)
		assert.Equal(t, "GreaterThanOrEqualToThreshold", a["ComparisonOperator"], metric)
		assert.Equal(t, "notBreaching", a["TreatMissingData"], metric)
		dims := jsonOf(a["Dimensions"])
		assert.Contains(t, dims, `"Name":"ApiName","Value":"`+name+`"`, metric)
		// The stage by its literal name, the one the Stage resource gets: a Ref to the
		// Stage would put the alarm in a dependency cycle once it is in a deployment group.
		assert.Contains(t, dims, `"Name":"Stage","Value":"`+tpl.Resources("AWS::ApiGateway::Stage")[stageID]["StageName"].(string)+`"`, metric)
		assert.NotContains(t, a, "AlarmActions", metric)
	}
	assert.Equal(t, "Sum", tpl.AlarmOn(t, "5XXError")["Statistic"])
	assert.Equal(t, "p99", tpl.AlarmOn(t, "Latency")["ExtendedStatistic"])
	assert.Len(t, w.Alarms, 7, "two API alarms, WAF's and the handler's four")
	assert.Equal(t, 7, tpl.Count("AWS::CloudWatch::Alarm"))
	// AND WAF's alarm watches what this web ACL blocks
	waf := tpl.AlarmOn(t, "BlockedRequests")
	assert.Equal(t, "AWS/WAFV2", waf["Namespace"])
	assert.EqualValues(t, webhookingress.DefaultWafBlockedThreshold, waf["Threshold"])
	assert.Contains(t, jsonOf(waf["Dimensions"]), `"Name":"WebACL","Value":"`+w.WebAclName()+`"`)
	assert.Equal(t, w.WebAclName(), tpl.Resources("AWS::WAFv2::WebACL")[aclID]["Name"])

	// AND URL() is the stage URL followed by the path
	url := jsonOf(stack.Resolve(w.URL()))
	assert.Contains(t, url, `{"Ref":"`+apiID+`"}`)
	assert.Contains(t, url, "/webhooks")
	assert.Contains(t, url, `{"Ref":"`+stageID+`"}`)

	// AND nothing is logged by a deprecated log-retention custom resource
	assert.Zero(t, tpl.Count("Custom::LogRetention"))
}

// accessLogGroup returns the log group that is neither the handler's nor WAF's.
func accessLogGroup(t *testing.T, tpl tu.Template) (string, map[string]any) {
	t.Helper()
	_, fn := tpl.One(t, "AWS::Lambda::Function")
	handlerLogs := jsonOf(tu.Get(fn, "LoggingConfig", "LogGroup"))
	require.Equal(t, 3, tpl.Count("AWS::Logs::LogGroup"), "the handler's, the access logs and WAF's")
	for id, p := range tpl.Resources("AWS::Logs::LogGroup") {
		if name, _ := p["LogGroupName"].(string); jsonOf(tu.Ref(id)) != handlerLogs && !strings.HasPrefix(name, webhookingress.WafLogGroupPrefix) {
			return id, p
		}
	}
	t.Fatal("no access log group")
	return "", nil
}

func TestCustomProps(t *testing.T) {
	// GIVEN every optional prop set
	props := &webhookingress.WebhookIngressProps{
		ApiName:             jsii.String("hooks-api"),
		Description:         jsii.String("receives hooks"),
		Path:                jsii.String("hooks"),
		StageName:           jsii.String("prod"),
		ThrottleRateLimit:   jsii.Number(20),
		ThrottleBurstLimit:  jsii.Number(40),
		QuotaPerDay:         jsii.Number(5000),
		WafRateLimit:        jsii.Number(500),
		AccessLogRetention:  awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		CloudWatchRole:      jsii.Bool(false),
		Server5xxThreshold:  jsii.Number(5),
		LatencyP99Threshold: awscdk.Duration_Millis(jsii.Number(1500)),
		ApiKeyName:          jsii.String("hooks-key"),
		UsagePlanName:       jsii.String("hooks-plan"),
	}
	// WHEN the ingress is synthesized
	w, stack, tpl := synth(t, props, func(s awscdk.Stack, p *webhookingress.WebhookIngressProps) {
		p.AlarmTopic = awssns.NewTopic(s, jsii.String("Topic"), nil)
	})
	topicID, _ := tpl.One(t, "AWS::SNS::Topic")

	// THEN the API, stage, key and plan carry them
	_, api := tpl.One(t, "AWS::ApiGateway::RestApi")
	assert.Equal(t, "hooks-api", api["Name"])
	assert.Equal(t, "receives hooks", api["Description"])
	_, res := tpl.One(t, "AWS::ApiGateway::Resource")
	assert.Equal(t, "hooks", res["PathPart"])
	_, st := tpl.One(t, "AWS::ApiGateway::Stage")
	assert.Equal(t, "prod", st["StageName"])
	assert.EqualValues(t, 20, tu.Get(st, "MethodSettings", 0, "ThrottlingRateLimit"))
	assert.EqualValues(t, 40, tu.Get(st, "MethodSettings", 0, "ThrottlingBurstLimit"))
	_, key := tpl.One(t, "AWS::ApiGateway::ApiKey")
	assert.Equal(t, "hooks-key", key["Name"])
	_, plan := tpl.One(t, "AWS::ApiGateway::UsagePlan")
	assert.Equal(t, "hooks-plan", plan["UsagePlanName"])
	assert.Equal(t, map[string]any{"RateLimit": float64(20), "BurstLimit": float64(40)}, plan["Throttle"])
	assert.EqualValues(t, 5000, tu.Get(plan, "Quota", "Limit"))

	// AND the WAF limit, the log retention and removal follow the props
	_, acl := tpl.One(t, "AWS::WAFv2::WebACL")
	assert.EqualValues(t, 500, tu.Get(acl, "Rules", 0, "Statement", "RateBasedStatement", "Limit"))
	for id := range tpl.Resources("AWS::Logs::LogGroup") {
		assert.Equal(t, "Retain", tu.Get(tpl.Resource(id), "DeletionPolicy"), "both log groups retained")
	}
	_, lg := accessLogGroup(t, tpl)
	assert.EqualValues(t, 365, lg["RetentionInDays"])

	// AND no account-level CloudWatch role is created
	assert.Zero(t, tpl.Count("AWS::ApiGateway::Account"))

	// AND thresholds follow the props and every alarm, the handler's included, notifies the topic
	assert.EqualValues(t, 5, tpl.AlarmOn(t, "5XXError")["Threshold"])
	assert.EqualValues(t, 1500, tpl.AlarmOn(t, "Latency")["Threshold"])
	require.Equal(t, 7, tpl.Count("AWS::CloudWatch::Alarm"))
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		assert.Equal(t, []any{tu.Ref(topicID)}, a["AlarmActions"], id)
		assert.Equal(t, []any{tu.Ref(topicID)}, a["OKActions"], id)
	}
	assert.Contains(t, jsonOf(stack.Resolve(w.URL())), "/hooks")
}

func TestHandlerTimeoutAboveIntegrationTimeoutWarns(t *testing.T) {
	// GIVEN a handler timeout above API Gateway's 29 s
	props := &webhookingress.WebhookIngressProps{Handler: alarmedfunction.AlarmedFunctionProps{Timeout: awscdk.Duration_Seconds(jsii.Number(60))}}
	// WHEN the ingress is synthesized
	w, _, _ := synth(t, props, nil)
	// THEN the construct carries a warning (read from its metadata: cheaper
	// than assertions.Annotations, which synthesizes the whole app)
	var warnings []string
	for _, e := range *w.Node().Metadata() {
		if *e.Type == "aws:cdk:warning" {
			warnings = append(warnings, jsonOf(e.Data))
		}
	}
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "integration timeout")
	assert.Contains(t, warnings[0], webhookingress.HandlerTimeoutWarning, "a neutral id, no product's name")
	assert.Contains(t, warnings[0], "Handler.Timeout 60 s")
}

func TestValidateDefaults(t *testing.T) {
	// GIVEN only the handler's code WHEN validated THEN there is no problem
	p := &webhookingress.WebhookIngressProps{Handler: alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t)}}
	require.NoError(t, p.Validate())
	d := p.WithDefaults()
	assert.Equal(t, "webhooks", *d.Path)
	assert.Equal(t, "v1", *d.StageName)
	assert.EqualValues(t, 50, *d.ThrottleRateLimit)
	assert.EqualValues(t, 100, *d.ThrottleBurstLimit)
	assert.EqualValues(t, 100000, *d.QuotaPerDay)
	assert.EqualValues(t, 2000, *d.WafRateLimit)
	assert.True(t, *d.CloudWatchRole)
	assert.Nil(t, p.Path, "WithDefaults does not modify the receiver")
}

func TestValidateReportsEachProblem(t *testing.T) {
	cases := map[string]struct {
		props webhookingress.WebhookIngressProps
		want  string
	}{
		"waf limit 5":          {webhookingress.WebhookIngressProps{WafRateLimit: jsii.Number(5)}, "WafRateLimit 5"},
		"two path segments":    {webhookingress.WebhookIngressProps{Path: jsii.String("a/b")}, `Path "a/b"`},
		"path parameter":       {webhookingress.WebhookIngressProps{Path: jsii.String("{id}")}, `Path "{id}"`},
		"empty path":           {webhookingress.WebhookIngressProps{Path: jsii.String("")}, `Path ""`},
		"stage with space":     {webhookingress.WebhookIngressProps{StageName: jsii.String("v 1")}, `StageName "v 1"`},
		"rate 0":               {webhookingress.WebhookIngressProps{ThrottleRateLimit: jsii.Number(0)}, "ThrottleRateLimit 0"},
		"burst 0":              {webhookingress.WebhookIngressProps{ThrottleBurstLimit: jsii.Number(0)}, "ThrottleBurstLimit 0"},
		"quota 0":              {webhookingress.WebhookIngressProps{QuotaPerDay: jsii.Number(0)}, "QuotaPerDay 0"},
		"5xx 0":                {webhookingress.WebhookIngressProps{Server5xxThreshold: jsii.Number(0)}, "Server5xxThreshold 0"},
		"latency 0":            {webhookingress.WebhookIngressProps{LatencyP99Threshold: awscdk.Duration_Seconds(jsii.Number(0))}, "LatencyP99Threshold"},
		"snapshot removal":     {webhookingress.WebhookIngressProps{RemovalPolicy: awscdk.RemovalPolicy_SNAPSHOT}, "RemovalPolicy"},
		"handler memory 64":    {webhookingress.WebhookIngressProps{Handler: alarmedfunction.AlarmedFunctionProps{MemorySize: jsii.Number(64)}}, "Handler.MemorySize 64"},
		"handler code missing": {webhookingress.WebhookIngressProps{}, "Handler.CodeDir is required"},
		"header upper case":    {webhookingress.WebhookIngressProps{RedactedHeaders: jsii.Strings("X-Api-Key")}, `RedactedHeaders[0] "X-Api-Key"`},
		"header nil":           {webhookingress.WebhookIngressProps{RedactedHeaders: &[]*string{nil}}, `RedactedHeaders[0] "<nil>"`},
		"too many headers":     {webhookingress.WebhookIngressProps{RedactedHeaders: jsii.Strings(manyHeaders(101)...)}, "WAF redacts at most 100"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN props with one problem (and the handler's code unless the case is about it)
			p := tc.props
			if p.Handler.CodeDir == nil && name != "handler code missing" {
				p.Handler.CodeDir = tu.CodeDir(t)
			}
			// WHEN validated THEN the error names the prop
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewPanicsWithEveryProblemBeforeCreatingResources(t *testing.T) {
	// GIVEN props with several problems, the handler's included
	stack := tu.NewStack(app, t.Name())
	props := &webhookingress.WebhookIngressProps{
		WafRateLimit: jsii.Number(5),
		Path:         jsii.String("a/b"),
		QuotaPerDay:  jsii.Number(-1),
	}
	// WHEN the ingress is created
	msg := tu.MustPanic(t, func() { webhookingress.NewWebhookIngress(stack, "Ingress", props) })
	// THEN one message reports them all
	for _, want := range []string{`webhookingress "Ingress"`, "Handler.CodeDir is required", "WafRateLimit 5", `Path "a/b"`, "QuotaPerDay -1"} {
		assert.Contains(t, msg, want)
	}
	// AND nothing was added to the stack
	assert.Nil(t, stack.Node().TryFindChild(jsii.String("Ingress")))
}

func TestWafLogsBlockedRequestsWithSecretsRedacted(t *testing.T) {
	// GIVEN an ingress with a week of log retention
	// WHEN it is synthesized
	w, _, tpl := synth(t, &webhookingress.WebhookIngressProps{AccessLogRetention: awslogs.RetentionDays_ONE_WEEK}, nil)

	// THEN the WebACL logs to an aws-waf-logs- group, by its ARN without ":*"
	aclID, _ := tpl.One(t, "AWS::WAFv2::WebACL")
	_, cfg := tpl.One(t, "AWS::WAFv2::LoggingConfiguration")
	assert.Equal(t, tu.GetAtt(aclID, "Arn"), cfg["ResourceArn"])
	groupID, group := tpl.Where(t, "AWS::Logs::LogGroup", func(p map[string]any) bool {
		name, _ := p["LogGroupName"].(string)
		return strings.HasPrefix(name, webhookingress.WafLogGroupPrefix)
	})
	require.NotNil(t, group, "a log group named aws-waf-logs-…")
	assert.EqualValues(t, 7, group["RetentionInDays"], "the env's retention")
	dest := jsonOf(cfg["LogDestinationConfigs"])
	assert.Contains(t, dest, `:log-group:`)
	assert.Contains(t, dest, groupID)
	assert.NotContains(t, dest, ":*")
	assert.NotNil(t, w.WafLogging)

	// AND the API key and both signature headers are redacted
	var redacted []string
	for _, f := range cfg["RedactedFields"].([]any) {
		redacted = append(redacted, tu.Get(f, "SingleHeader", "Name").(string))
	}
	assert.Equal(t, []string{"x-api-key", "webhook-signature", "stripe-signature"}, redacted)

	// AND blocked (and counted) requests are kept, allowed ones dropped
	assert.Equal(t, "DROP", tu.Get(cfg, "LoggingFilter", "DefaultBehavior"))
	assert.JSONEq(t, `[{"ActionCondition":{"Action":"BLOCK"}},{"ActionCondition":{"Action":"COUNT"}}]`,
		jsonOf(tu.Get(cfg, "LoggingFilter", "Filters", 0, "Conditions")))
}

// manyHeaders returns n distinct header names.
func manyHeaders(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("x-h%d", i)
	}
	return out
}

func TestRedactedHeadersAreAProp(t *testing.T) {
	// GIVEN a team whose provider signs with its own header
	// WHEN the ingress is synthesized with its list
	_, _, tpl := synth(t, &webhookingress.WebhookIngressProps{RedactedHeaders: jsii.Strings("x-api-key", "x-hub-signature-256")}, nil)
	// THEN exactly those headers are redacted
	_, cfg := tpl.One(t, "AWS::WAFv2::LoggingConfiguration")
	var redacted []string
	for _, f := range cfg["RedactedFields"].([]any) {
		redacted = append(redacted, tu.Get(f, "SingleHeader", "Name").(string))
	}
	assert.Equal(t, []string{"x-api-key", "x-hub-signature-256"}, redacted)
	// AND the default is a fresh list each time: changing one changes no other
	d := webhookingress.DefaultRedactedHeaders()
	d[0] = "changed"
	assert.Equal(t, "x-api-key", webhookingress.DefaultRedactedHeaders()[0])
}

func TestRoutesKeylessAndKeyedWithTheirOwnThrottleAndWafRules(t *testing.T) {
	// GIVEN a keyless route limited to two address blocks, a keyed route, and two keys
	w, _, tpl := synth(t, &webhookingress.WebhookIngressProps{
		Routes: []*webhookingress.Route{
			{Name: jsii.String("stripe"), Keyless: jsii.Bool(true), ThrottleRateLimit: jsii.Number(5), ThrottleBurstLimit: jsii.Number(10),
				WafRateLimit: jsii.Number(300), SourceIps: []*string{jsii.String("3.18.12.63/32"), jsii.String("2001:db8::/32"), jsii.String("13.235.14.237/32")}},
			{Name: jsii.String("acme")},
		},
		ApiKeys: []*webhookingress.ApiKeySpec{{Name: jsii.String("acme"), QuotaPerDay: jsii.Number(500)}, {Name: jsii.String("smoke")}},
	}, nil)

	// THEN POST /webhooks/stripe takes no key, POST /webhooks/acme needs one; no catch-all
	for name, keyed := range map[string]bool{"stripe": false, "acme": true} {
		resID, res := tpl.Where(t, "AWS::ApiGateway::Resource", func(r map[string]any) bool { return r["PathPart"] == name })
		parentID, _ := tpl.Where(t, "AWS::ApiGateway::Resource", func(r map[string]any) bool { return r["PathPart"] == "webhooks" })
		assert.Equal(t, tu.Ref(parentID), res["ParentId"], "under /webhooks")
		_, m := tpl.Where(t, "AWS::ApiGateway::Method", func(m map[string]any) bool { return jsonOf(m["ResourceId"]) == jsonOf(tu.Ref(resID)) })
		assert.Equal(t, keyed, m["ApiKeyRequired"], name)
		assert.Equal(t, "AWS_PROXY", tu.Get(m, "Integration", "Type"))
		assert.NotNil(t, w.RouteMethods[name])
	}
	assert.NotContains(t, jsonOf(tpl), "{provider}")
	// AND the keyless route has a throttle of its own on the stage
	_, st := tpl.One(t, "AWS::ApiGateway::Stage")
	assert.Contains(t, jsonOf(st["MethodSettings"]), `"ResourcePath":"/~1webhooks~1stripe","ThrottlingBurstLimit":10,"ThrottlingRateLimit":5`)
	// AND each key has a usage plan of its own
	assert.Equal(t, 2, tpl.Count("AWS::ApiGateway::ApiKey"))
	plans := tpl.Resources("AWS::ApiGateway::UsagePlan")
	require.Len(t, plans, 2)
	assert.Contains(t, jsonOf(plans), `"Limit":500`)
	assert.Equal(t, 2, tpl.Count("AWS::ApiGateway::UsagePlanKey"))
	// AND WAF blocks the route's path from other addresses, rate-limits it on its own, and
	// judges no body with a blocking rule
	_, acl := tpl.One(t, "AWS::WAFv2::WebACL")
	rules := jsonOf(acl["Rules"])
	assert.Contains(t, rules, `"Name":"SourceIps-stripe"`)
	assert.Contains(t, rules, `"Name":"RateLimit-stripe"`)
	assert.Contains(t, rules, `"Limit":300`)
	assert.Contains(t, rules, `"PositionalConstraint":"ENDS_WITH","SearchString":"/webhooks/stripe"`)
	// (an IP set holds one IP version: the IPv6 block is in a set of its own, either admits)
	sets := tpl.Resources("AWS::WAFv2::IPSet")
	require.Len(t, sets, 2)
	byVersion := map[string]any{}
	for _, set := range sets {
		byVersion[set["IPAddressVersion"].(string)] = set["Addresses"]
	}
	assert.ElementsMatch(t, []any{"3.18.12.63/32", "13.235.14.237/32"}, byVersion["IPV4"])
	assert.ElementsMatch(t, []any{"2001:db8::/32"}, byVersion["IPV6"])
	assert.Len(t, w.SourceIpSets["stripe"], 2)
	assert.Contains(t, rules, `"NotStatement":{"Statement":{"OrStatement"`)
	// AND the ingress-wide rate rule counts only requests to neither route's path: a route's own
	// limit is the only one on its path
	global := jsonOf(tu.Get(acl, "Rules", 0, "Statement", "RateBasedStatement", "ScopeDownStatement"))
	assert.Contains(t, global, `"NotStatement":{"Statement":{"OrStatement"`)
	assert.Contains(t, global, `"SearchString":"/webhooks/stripe"`)
	assert.Contains(t, global, `"SearchString":"/webhooks/acme"`)
	for group, body := range webhookingress.BodyRules() {
		for _, rule := range body {
			assert.Contains(t, rules, `{"ActionToUse":{"Count":{}},"Name":"`+rule+`"}`, "%s %s counts", group, rule)
		}
	}
}

func TestBodyLimitBlocksInWafByContentLength(t *testing.T) {
	_, _, tpl := synth(t, &webhookingress.WebhookIngressProps{MaxBodyBytes: jsii.Number(131072)}, nil)
	_, acl := tpl.One(t, "AWS::WAFv2::WebACL")
	assert.Contains(t, jsonOf(acl["Rules"]), `"Name":"content-length"`)
	assert.Contains(t, jsonOf(acl["Rules"]), webhookingress.GreaterThan(131072))
}

// TestGreaterThanMatchesExactlyTheLargerNumbers checks the Content-Length rule's expression
// against every number around the limits payhook's env files allow.
func TestGreaterThanMatchesExactlyTheLargerNumbers(t *testing.T) {
	for _, limit := range []int{1, 9, 10, 99, 100, 131072, 199999, 4194304} {
		re := regexp.MustCompile(webhookingress.GreaterThan(limit))
		for n := max(0, limit-1200); n <= limit+1200; n++ {
			assert.Equal(t, n > limit, re.MatchString(strconv.Itoa(n)), "limit %d, Content-Length %d", limit, n)
		}
		for _, n := range []int{limit * 10, limit*10 + 7, 99999999} {
			assert.Equal(t, n > limit, re.MatchString(strconv.Itoa(n)), "limit %d, Content-Length %d", limit, n)
		}
		assert.False(t, re.MatchString("0"+strconv.Itoa(limit+1)), "no leading zeros")
		assert.LessOrEqual(t, len(webhookingress.GreaterThan(limit)), 200, "WAF's regex length limit")
	}
}

func TestValidateRoutesAndKeys(t *testing.T) {
	p := webhookingress.WebhookIngressProps{Handler: alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t)},
		Routes: []*webhookingress.Route{{Name: jsii.String("a/b")}, {Name: jsii.String("x"), SourceIps: []*string{jsii.String("10.0.0.1")}},
			{Name: jsii.String("x")}},
		ApiKeys:      []*webhookingress.ApiKeySpec{{QuotaPerDay: jsii.Number(0)}, {Name: jsii.String("k")}},
		MaxBodyBytes: jsii.Number(0)}
	err := p.Validate()
	require.Error(t, err)
	for _, want := range []string{`Routes[0].Name "a/b" must be one path segment`, `Routes[1].SourceIps[0] "10.0.0.1" is not a CIDR block`,
		`Routes[2].Name "x" is also Routes[1]'s`, "ApiKeys[0].Name is required when there are several keys",
		"ApiKeys[0].QuotaPerDay 0 must be a whole number >= 1", "MaxBodyBytes 0 must be a whole number between 1 and 10485760"} {
		assert.Contains(t, err.Error(), want)
	}
}

const teamACL = "arn:aws:wafv2:us-east-1:111111111111:regional/webacl/team/0f1e2d3c-aaaa-bbbb-cccc-000000000000"

func TestExistingWebAclIsAssociatedNotCreated(t *testing.T) {
	// GIVEN a team's own web ACL
	w, _, tpl := synth(t, &webhookingress.WebhookIngressProps{ExistingWebAclArn: jsii.String(teamACL)}, nil)
	// THEN the ingress creates no web ACL, logging or WAF alarm, and associates theirs
	assert.Equal(t, 0, tpl.Count("AWS::WAFv2::WebACL"))
	assert.Equal(t, 0, tpl.Count("AWS::WAFv2::LoggingConfiguration"))
	_, assoc := tpl.One(t, "AWS::WAFv2::WebACLAssociation")
	assert.Equal(t, teamACL, assoc["WebACLArn"])
	assert.Nil(t, w.WebAcl)
	assert.Nil(t, w.WafBlockedAlarm)
	for _, a := range w.Alarms {
		assert.NotNil(t, a, "no nil alarm in Alarms")
	}
	assert.Len(t, w.Alarms, 2+len(w.Handler.Alarms), "the API's two alarms and the handler's")
}

func TestNoWebAclCreatesNoneAndAssociatesNone(t *testing.T) {
	w, _, tpl := synth(t, &webhookingress.WebhookIngressProps{NoWebAcl: jsii.Bool(true)}, nil)
	assert.Equal(t, 0, tpl.Count("AWS::WAFv2::WebACL"))
	assert.Equal(t, 0, tpl.Count("AWS::WAFv2::WebACLAssociation"))
	assert.Nil(t, w.WebAclAssociation)
}

func TestExistingWebAclWithThePropsItReplacesIsRefused(t *testing.T) {
	cases := map[string]struct {
		props webhookingress.WebhookIngressProps
		want  []string
	}{
		"both": {webhookingress.WebhookIngressProps{ExistingWebAclArn: jsii.String(teamACL), NoWebAcl: jsii.Bool(true)},
			[]string{"ExistingWebAclArn and NoWebAcl: give one"}},
		"not a web ACL": {webhookingress.WebhookIngressProps{ExistingWebAclArn: jsii.String("arn:aws:s3:::bucket")},
			[]string{`ExistingWebAclArn "arn:aws:s3:::bucket" must be a regional web ACL's ARN`}},
		"rules of the ACL it would create": {webhookingress.WebhookIngressProps{ExistingWebAclArn: jsii.String(teamACL),
			WafRateLimit: jsii.Number(500), MaxBodyBytes: jsii.Number(1024)},
			[]string{"ExistingWebAclArn and WafRateLimit", "ExistingWebAclArn and MaxBodyBytes"}},
		"its alarm and log": {webhookingress.WebhookIngressProps{NoWebAcl: jsii.Bool(true),
			WafBlockedThreshold: jsii.Number(5), RedactedHeaders: jsii.Strings("x-api-key")},
			[]string{"NoWebAcl and WafBlockedThreshold", "NoWebAcl and RedactedHeaders"}},
		"a route's rules": {webhookingress.WebhookIngressProps{NoWebAcl: jsii.Bool(true),
			Routes: []*webhookingress.Route{{Name: jsii.String("stripe"), Keyless: jsii.Bool(true), SourceIps: []*string{jsii.String("10.0.0.0/8")}}}},
			[]string{"NoWebAcl and Routes[0]"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.props
			p.Handler.CodeDir = tu.CodeDir(t)
			err := p.Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestTraceSamplingIsARuleOnTheStage(t *testing.T) {
	// GIVEN a sampling of 2 requests a second, then 1 %
	w, _, tpl := synth(t, &webhookingress.WebhookIngressProps{ApiName: jsii.String("hooks"), StageName: jsii.String("live"),
		TraceSampling: &webhookingress.TraceSampling{ReservoirPerSecond: 2, FixedRate: 0.01}}, nil)
	// THEN the stage traces, and a rule for its service samples as asked
	_, rule := tpl.One(t, "AWS::XRay::SamplingRule")
	r, ok := rule["SamplingRule"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "hooks/live", r["ServiceName"])
	assert.Equal(t, "AWS::ApiGateway::Stage", r["ServiceType"])
	assert.InDelta(t, 2, r["ReservoirSize"], 0)
	assert.InDelta(t, 0.01, r["FixedRate"], 0)
	assert.InDelta(t, webhookingress.DefaultTracePriority, r["Priority"], 0)
	assert.LessOrEqual(t, len(fmt.Sprint(r["RuleName"])), 32)
	_, stage := tpl.One(t, "AWS::ApiGateway::Stage")
	assert.Equal(t, true, stage["TracingEnabled"])
	assert.NotNil(t, w.SamplingRule)
}

func TestTraceSamplingOfNothingTurnsTracingOff(t *testing.T) {
	w, _, tpl := synth(t, &webhookingress.WebhookIngressProps{TraceSampling: &webhookingress.TraceSampling{}}, nil)
	assert.Equal(t, 0, tpl.Count("AWS::XRay::SamplingRule"))
	_, stage := tpl.One(t, "AWS::ApiGateway::Stage")
	assert.Equal(t, false, stage["TracingEnabled"])
	assert.Nil(t, w.SamplingRule)
}

func TestTracingByDefaultIsXRaysDefaultRule(t *testing.T) {
	_, _, tpl := synth(t, &webhookingress.WebhookIngressProps{}, nil)
	assert.Equal(t, 0, tpl.Count("AWS::XRay::SamplingRule"))
	_, stage := tpl.One(t, "AWS::ApiGateway::Stage")
	assert.Equal(t, true, stage["TracingEnabled"])
}

func TestTraceSamplingOutOfRangeIsRefused(t *testing.T) {
	p := webhookingress.WebhookIngressProps{Handler: alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t)},
		TraceSampling: &webhookingress.TraceSampling{ReservoirPerSecond: 1.5, FixedRate: 2, RuleName: jsii.String("a rule"), Priority: jsii.Number(0)}}
	require.Error(t, p.Validate())
	p.ApiName = jsii.String(strings.Repeat("a", 62))
	err := p.Validate()
	for _, want := range []string{"the sampling rule's service name", "TraceSampling.ReservoirPerSecond 1.5", "TraceSampling.FixedRate 2", `TraceSampling.RuleName "a rule"`, "TraceSampling.Priority 0"} {
		assert.Contains(t, err.Error(), want)
	}
}
