package payments

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/constructs/alarm"
	"github.com/payhook/payhook/internal/contract"
)

// serviceMetric is one of a service's EMF metrics (namespace payhook, dimensions Service,
// Env and extra), over 5 minutes.
func (b *builder) serviceMetric(service, metric, statistic string, extra map[string]*string) awscloudwatch.Metric {
	dims := map[string]*string{"Service": jsii.String(service), "Env": jsii.String(b.e.Name)}
	for k, v := range extra {
		dims[k] = v
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(contract.MetricsNamespace), MetricName: jsii.String(metric), DimensionsMap: &dims,
		Statistic: jsii.String(statistic), Period: awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

func (b *builder) serviceAlarm(id, service, metric string, extra map[string]*string, threshold float64, desc string) awscloudwatch.Alarm {
	a := alarm.New(b.s.Stack, id, b.serviceMetric(service, metric, "Sum", extra), threshold,
		"payhook "+b.e.Name+": "+desc, b.s.AlertsTopic)
	b.serviceAlarmList = append(b.serviceAlarmList, a)
	return a
}

// serviceAlarms creates the alarms on the services' own metrics: failures that Lambda does
// not count as errors, because the functions answer them (ingest's 500/503, accounting's
// batch item failures, dead messages, records waiting for accounting). They page, and where
// a deployment group shifts traffic they roll a bad version back, together with the API's
// 5xx alarm for ingest.
func (b *builder) serviceAlarms() {
	e := b.e
	// A transaction sent but not accounted by the time every receive of its message has timed
	// out: accounting is backed up, or the message is lost (the reconciler re-sends it once the
	// queue's retention has passed, UnaccountedAfterSeconds).
	deadline := AccountingDeadlineSeconds(e)
	oldest := alarm.New(b.s.Stack, "OldestUnaccountedAlarm", b.serviceMetric("reconciler", "OldestUnaccountedAgeSeconds", "Maximum", nil),
		float64(deadline), fmt.Sprintf("payhook %s: a notification has waited %d s or more for accounting since it was sent (re-sent after %d s)",
			e.Name, deadline, UnaccountedAfterSeconds(e)), b.s.AlertsTopic)
	b.serviceAlarmList = append(b.serviceAlarmList, oldest)
	unavailable := b.serviceAlarm("IngestUnavailableAlarm", "ingest", "Rejected", map[string]*string{"Reason": jsii.String("unavailable")},
		float64(e.Alarms.API5xxThreshold), "ingest answered 503 (a dependency failed)")
	internal := b.serviceAlarm("IngestInternalErrorAlarm", "ingest", "Rejected", map[string]*string{"Reason": jsii.String("internal")},
		1, "ingest answered 500 (a bug)")
	accountingFailed := b.serviceAlarm("AccountingFailedAlarm", "accounting", "AccountingFailed", nil,
		float64(e.Alarms.ErrorThreshold), "accounting reported batch item failures")
	b.serviceAlarm("DeadMessagesAlarm", "notify-failures", "Failed", nil, 1, "messages died in the DLQ and were recorded as failed")
	if g := b.s.Ingress.Handler.DeploymentGroup; g != nil {
		g.AddAlarm(unavailable)
		g.AddAlarm(internal)
		g.AddAlarm(b.s.Ingress.Server5xxAlarm)
	}
	if g := b.s.Worker.Consumer.DeploymentGroup; g != nil {
		g.AddAlarm(accountingFailed)
	}
}
