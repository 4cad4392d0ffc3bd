package payments

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/internal/contract"
)

// OutputDashboardURL is the output holding the env's CloudWatch dashboard URL.
const OutputDashboardURL = "DashboardUrl"

// dashboard creates the env's CloudWatch dashboard, one row per question an operator asks:
// is the API answering (requests, 4xx/5xx, p99), what does ingest answer and why, is
// accounting keeping up (queue depth, oldest message, DLQ depth, failures, oldest
// unaccounted), are the functions healthy, and which alarms are firing.
func (b *builder) dashboard() {
	s, e := b.s, b.e
	period := awscdk.Duration_Minutes(jsii.Number(5))
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}
	api := func(name, stat string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/ApiGateway"), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"ApiName": s.Ingress.Api.RestApiName(), "Stage": jsii.String(e.API.StageName)},
			Statistic:     jsii.String(stat), Period: period,
		})
	}
	graph := func(title string, width float64, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &metrics, Width: jsii.Number(width), Height: jsii.Number(6),
		})
	}
	rejected := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,Env,Reason,Service} Env="%s" Service="ingest" MetricName="Rejected"', 'Sum', 300)`,
			contract.MetricsNamespace, e.Name)),
		Label: jsii.String("Rejected by reason"), Period: period,
	})
	// Events ingest answered 200 but flags: types no mapping lists, and livemode mismatches
	// (refused with 422), by provider.
	events := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,Env,Provider,Service} Env="%s" Service="ingest" (MetricName="UnmappedEventType" OR MetricName="LivemodeMismatch")', 'Sum', 300)`,
			contract.MetricsNamespace, e.Name)),
		Label: jsii.String("Unmapped event types and livemode mismatches"), Period: period,
	})
	waf := b.wafByRule(period)
	var functions []awscloudwatch.IMetric
	var alarms []awscloudwatch.IAlarm
	for _, f := range []*alarmedfunction.AlarmedFunction{s.Ingress.Handler, s.Worker.Consumer, s.NotifyFailures, s.Reconciler} {
		functions = append(functions, f.Alias.MetricErrors(sum))
	}
	alarms = append(alarms, s.Ingress.Alarms...)
	alarms = append(alarms, s.Worker.Alarms...)
	alarms = append(alarms, s.NotifyFailures.Alarms...)
	alarms = append(alarms, s.Reconciler.Alarms...)
	alarms = append(alarms, b.serviceAlarmList...)
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		refs[i] = a
	}
	queue, dlq := s.Worker.Queue, s.Worker.DeadLetterQueue
	max5 := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: period}
	d := awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(e.StageName()),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{graph("API requests", 8, api("Count", "Sum")), graph("API 4xx / 5xx", 8, api("4XXError", "Sum"), api("5XXError", "Sum")),
				graph("API latency p99 (ms)", 8, api("Latency", "p99"))},
			{graph("Ingest accepted / duplicate / ignored", 8, b.serviceMetric("ingest", "Accepted", "Sum", nil),
				b.serviceMetric("ingest", "Duplicate", "Sum", nil), b.serviceMetric("ingest", "Ignored", "Sum", nil)),
				graph("Ingest rejected, by reason", 8, rejected),
				graph("Provider events: unmapped types, livemode mismatches", 8, events)},
			{graph("Queue depth", 6, queue.MetricApproximateNumberOfMessagesVisible(max5)),
				graph("Oldest message (s)", 6, queue.MetricApproximateAgeOfOldestMessage(max5)),
				graph("DLQ depth", 6, dlq.MetricApproximateNumberOfMessagesVisible(max5)),
				graph("Accounting failures", 6, b.serviceMetric("accounting", "AccountingFailed", "Sum", nil))},
			{graph("Oldest unaccounted wait (s)", 12, b.serviceMetric("reconciler", "OldestUnaccountedAgeSeconds", "Maximum", nil)),
				graph("Re-sent by the reconciler", 12, b.serviceMetric("reconciler", "OutboxRelayed", "Sum", nil),
					b.serviceMetric("reconciler", "UnaccountedResent", "Sum", nil))},
			{graph("Credited and debited per hour (minor units), by provider and currency", 24, b.moneyMoved()...)},
			{graph("WAF: blocked and counted requests, by rule", 24, waf)},
			{graph("Function errors (live alias)", 12, functions...),
				awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
					Title: jsii.String("Alarms"), Alarms: &refs, Width: jsii.Number(12), Height: jsii.Number(6),
				})},
		},
	})
	url := fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s",
		*s.Stack.Region(), *s.Stack.Region(), e.StageName())
	b.s.Dashboard = d
	b.s.Outputs[OutputDashboardURL] = awscdk.NewCfnOutput(s.Stack, jsii.String(OutputDashboardURL), &awscdk.CfnOutputProps{
		Value: jsii.String(url), Description: jsii.String("CloudWatch dashboard"),
	})
}

// wafByRule is what WAF blocks and what its body rules only count (a signed
// body is never blocked for its content), by rule.
func (b *builder) wafByRule(period awscdk.Duration) awscloudwatch.IMetric {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{AWS/WAFV2,Region,Rule,WebACL} WebACL="%s" (MetricName="BlockedRequests" OR MetricName="CountedRequests")', 'Sum', 300)`,
			b.s.Ingress.WebAclName())),
		Label: jsii.String("WAF blocked and counted, by rule"), Period: period,
	})
}

// moneyMoved is what accounting added to the daily totals (accounting's CreditedMinor and
// DebitedMinor), by provider and currency, per hour.
func (b *builder) moneyMoved() []awscloudwatch.IMetric {
	var out []awscloudwatch.IMetric
	for _, m := range []string{"CreditedMinor", "DebitedMinor"} {
		out = append(out, awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,Currency,Env,Provider,Service} MetricName="%s" Env="%s" Service="accounting"', 'Sum', 3600)`,
				contract.MetricsNamespace, m, b.e.Name)),
			Label: jsii.String(strings.TrimSuffix(m, "Minor")), Period: awscdk.Duration_Hours(jsii.Number(1)),
		}))
	}
	return out
}
