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
			Limit: p.WafRateLimit, AggregateKeyType: jsii.String("IP"), EvaluationWindowSec: jsii.Number(WafRateWindowSeconds),
			ScopeDownStatement: offRoutes(p)}},
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
	w.SourceIpSets = map[string][]awswafv2.CfnIPSet{}
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
	onPath := routePath(p, r)
	block := &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}}
	name := func(kind string) string { return fmt.Sprintf("%s-%s", kind, *r.Name) }
	var rules []any
	if len(r.SourceIps) > 0 {
		sets := newIPSets(c, *r.Name, r.SourceIps)
		w.SourceIpSets[*r.Name] = sets
		var refs []any
		for _, set := range sets {
			refs = append(refs, &awswafv2.CfnWebACL_StatementProperty{IpSetReferenceStatement: &awswafv2.CfnWebACL_IPSetReferenceStatementProperty{Arn: set.AttrArn()}})
		}
		from := refs[0].(*awswafv2.CfnWebACL_StatementProperty)
		if len(refs) > 1 {
			from = &awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{Statements: &refs}}
		}
		outside := &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{Statement: from}}
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

// routePath matches requests to a route's path.
func routePath(p WebhookIngressProps, r *Route) *awswafv2.CfnWebACL_StatementProperty {
	return &awswafv2.CfnWebACL_StatementProperty{ByteMatchStatement: &awswafv2.CfnWebACL_ByteMatchStatementProperty{
		FieldToMatch: &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
		// The path as API Gateway receives it ends so, whatever the stage or domain mapping.
		PositionalConstraint: jsii.String("ENDS_WITH"),
		SearchString:         jsii.String("/" + strings.ToLower(*p.Path+"/"+*r.Name)),
		TextTransformations:  &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("LOWERCASE")}},
	}}
}

// offRoutes matches requests to no route's path, or is nil without routes: the
// ingress-wide rate rule counts only those, so that a route's own WafRateLimit
// is the only per-address limit on its path (one above the ingress's holds).
func offRoutes(p WebhookIngressProps) *awswafv2.CfnWebACL_StatementProperty {
	var paths []any
	for _, r := range p.Routes {
		paths = append(paths, routePath(p, r))
	}
	switch len(paths) {
	case 0:
		return nil
	case 1:
		return &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
			Statement: paths[0].(*awswafv2.CfnWebACL_StatementProperty)}}
	}
	return &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
		Statement: &awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{Statements: &paths}}}}
}

// newIPSets are a route's source addresses: an IP set holds one IP version, so
// IPv4 and IPv6 addresses are in sets of their own (the IPv4 set first).
func newIPSets(c constructs.Construct, route string, cidrs []*string) []awswafv2.CfnIPSet {
	var v4, v6 []*string
	for _, cidr := range cidrs {
		if ip, _, _ := net.ParseCIDR(*cidr); ip.To4() != nil {
			v4 = append(v4, cidr)
		} else {
			v6 = append(v6, cidr)
		}
	}
	var sets []awswafv2.CfnIPSet
	for _, v := range []struct {
		version, id string
		addrs       []*string
	}{{"IPV4", "SourceIps-" + route, v4}, {"IPV6", "SourceIpsV6-" + route, v6}} {
		if len(v.addrs) == 0 {
			continue
		}
		sets = append(sets, awswafv2.NewCfnIPSet(c, jsii.String(v.id), &awswafv2.CfnIPSetProps{
			Addresses:        &v.addrs,
			IpAddressVersion: jsii.String(v.version),
			Scope:            jsii.String("REGIONAL"),
			Description:      jsii.String("Addresses that may post to /" + route),
		}))
	}
	return sets
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
