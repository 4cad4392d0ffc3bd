package webhookingress

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newWebACL creates the regional WebACL and associates it with the stage. Rules, in priority
// order: the per-address rate limit; the body-size limit; per route, its source addresses
// and its own per-address rate limit; then AWS's managed groups, whose body rules count.
func (w *WebhookIngress) newWebACL(c constructs.Construct, p WebhookIngressProps) {
	// WAF metric names are at most 128 characters: leave room for the longest rule name.
	prefix := *awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(80)})
	w.wafName = prefix
	visibility := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{CloudWatchMetricsEnabled: jsii.Bool(true),
			SampledRequestsEnabled: jsii.Bool(true), MetricName: jsii.String(prefix + "-" + name)}
	}
	block := &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}}
	rules := []any{&awswafv2.CfnWebACL_RuleProperty{
		Name: jsii.String(RuleRateLimit), Priority: jsii.Number(1), Action: block, VisibilityConfig: visibility(RuleRateLimit),
		Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
			Limit: p.WafRateLimit, AggregateKeyType: jsii.String("IP"), EvaluationWindowSec: jsii.Number(WafRateWindowSeconds)}},
	}}
	if p.MaxBodyBytes != nil {
		rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
			Name: jsii.String(RuleBodySize), Priority: jsii.Number(2), Action: block, VisibilityConfig: visibility(RuleBodySize),
			Statement: &awswafv2.CfnWebACL_StatementProperty{RegexMatchStatement: &awswafv2.CfnWebACL_RegexMatchStatementProperty{
				FieldToMatch:        &awswafv2.CfnWebACL_FieldToMatchProperty{SingleHeader: map[string]any{"Name": "content-length"}},
				RegexString:         jsii.String(GreaterThan(int(*p.MaxBodyBytes))),
				TextTransformations: noTransformation(),
			}},
		})
	}
	w.SourceIpSets = map[string]awswafv2.CfnIPSet{}
	for i, r := range p.Routes {
		rules = append(rules, w.routeRules(c, p, r, 10+2*i, visibility)...)
	}
	for i, name := range []string{RuleCommon, RuleKnownBadInputs, RuleIPReputation} {
		rules = append(rules, managedGroup(float64(100+i), name, visibility(name)))
	}
	w.WebAcl = awswafv2.NewCfnWebACL(c, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(prefix),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: visibility("WebAcl"),
		Rules:            &rules,
	})
	// The stage's ARN refers to the stage, so CloudFormation creates the stage first.
	w.WebAclAssociation = awswafv2.NewCfnWebACLAssociation(c, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: w.Stage.StageArn(),
		WebAclArn:   w.WebAcl.AttrArn(),
	})
}

// routeRules are a route's rules: requests to its path from outside its SourceIps are
// blocked, and each address may send it WafRateLimit requests per window.
func (w *WebhookIngress) routeRules(c constructs.Construct, p WebhookIngressProps, r *Route, priority int,
	visibility func(string) *awswafv2.CfnWebACL_VisibilityConfigProperty) []any {
	onPath := &awswafv2.CfnWebACL_StatementProperty{ByteMatchStatement: &awswafv2.CfnWebACL_ByteMatchStatementProperty{
		FieldToMatch: &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
		// The path as API Gateway receives it ends so, whatever the stage or domain mapping.
		PositionalConstraint: jsii.String("ENDS_WITH"),
		SearchString:         jsii.String("/" + strings.ToLower(*p.Path+"/"+*r.Name)),
		TextTransformations:  &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("LOWERCASE")}},
	}}
	block := &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}}
	name := func(kind string) string { return fmt.Sprintf("%s-%s", kind, *r.Name) }
	var rules []any
	if len(r.SourceIps) > 0 {
		set := newIPSet(c, *r.Name, r.SourceIps)
		w.SourceIpSets[*r.Name] = set
		outside := &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
			Statement: &awswafv2.CfnWebACL_StatementProperty{IpSetReferenceStatement: &awswafv2.CfnWebACL_IPSetReferenceStatementProperty{Arn: set.AttrArn()}}}}
		rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
			Name: jsii.String(name("SourceIps")), Priority: jsii.Number(float64(priority)), Action: block,
			VisibilityConfig: visibility(name("SourceIps")),
			Statement: &awswafv2.CfnWebACL_StatementProperty{AndStatement: &awswafv2.CfnWebACL_AndStatementProperty{
				Statements: &[]any{onPath, outside}}},
		})
	}
	return append(rules, &awswafv2.CfnWebACL_RuleProperty{
		Name: jsii.String(name("RateLimit")), Priority: jsii.Number(float64(priority + 1)), Action: block,
		VisibilityConfig: visibility(name("RateLimit")),
		Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
			Limit: r.WafRateLimit, AggregateKeyType: jsii.String("IP"), EvaluationWindowSec: jsii.Number(WafRateWindowSeconds),
			ScopeDownStatement: onPath}},
	})
}

// newIPSet is a route's source addresses, IPv4 and IPv6 in sets of their own (WAF's rule).
func newIPSet(c constructs.Construct, route string, cidrs []*string) awswafv2.CfnIPSet {
	var v4, v6 []*string
	for _, cidr := range cidrs {
		if ip, _, _ := net.ParseCIDR(*cidr); ip.To4() != nil {
			v4 = append(v4, cidr)
		} else {
			v6 = append(v6, cidr)
		}
	}
	version, addrs := "IPV4", v4
	if len(v4) == 0 {
		version, addrs = "IPV6", v6
	}
	return awswafv2.NewCfnIPSet(c, jsii.String("SourceIps-"+route), &awswafv2.CfnIPSetProps{
		Addresses:        &addrs,
		IpAddressVersion: jsii.String(version),
		Scope:            jsii.String("REGIONAL"),
		Description:      jsii.String("Addresses that may post to /" + route),
	})
}

// managedGroup is one of AWS's managed rule groups, its body rules counting (BodyRules).
func managedGroup(priority float64, name string, visibility *awswafv2.CfnWebACL_VisibilityConfigProperty) *awswafv2.CfnWebACL_RuleProperty {
	stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String(managedRuleVendorAWS), Name: jsii.String(name)}
	var overrides []any
	for _, rule := range BodyRules()[name] {
		overrides = append(overrides, &awswafv2.CfnWebACL_RuleActionOverrideProperty{
			Name: jsii.String(rule), ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}}})
	}
	if len(overrides) > 0 {
		stmt.RuleActionOverrides = &overrides
	}
	return &awswafv2.CfnWebACL_RuleProperty{
		Name: jsii.String(name), Priority: jsii.Number(priority),
		Statement: &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
		// The group's own actions, but for the overrides above.
		OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
		VisibilityConfig: visibility,
	}
}

func noTransformation() *[]any {
	return &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")}}
}

// GreaterThan returns a regular expression matching exactly the decimal numbers (without
// leading zeros) greater than n: WAF compares a header as text, so "Content-Length above
// the limit" is written as the numbers above it.
func GreaterThan(n int) string {
	s := strconv.Itoa(n)
	alts := []string{fmt.Sprintf("[1-9][0-9]{%d,}", len(s))} // more digits
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d == 9 {
			continue
		}
		lo := d + 1
		rest := len(s) - i - 1
		class := fmt.Sprintf("[%d-9]", lo)
		if lo == 9 {
			class = "9"
		}
		alt := s[:i] + class
		if rest > 0 {
			alt += fmt.Sprintf("[0-9]{%d}", rest)
		}
		alts = append(alts, alt)
	}
	return "^(" + strings.Join(alts, "|") + ")$"
}

// WafMetric is one of WAF's metrics of this ingress's web ACL (BlockedRequests,
// CountedRequests, AllowedRequests) for one rule ("ALL" for the whole ACL), summed over the
// alarm period.
func (w *WebhookIngress) WafMetric(name, rule string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/WAFV2"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"WebACL": jsii.String(w.wafName), "Rule": jsii.String(rule), "Region": awscdk.Stack_Of(w.Api).Region()},
		Statistic:     jsii.String("Sum"),
		Period:        alarmPeriod(),
	})
}

// WebAclName is the web ACL's name: the WebACL dimension of its metrics.
func (w *WebhookIngress) WebAclName() string { return w.wafName }
