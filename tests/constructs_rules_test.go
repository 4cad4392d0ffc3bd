package tests

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	"github.com/payhook/payhook/constructs/constructstest"
	"github.com/payhook/payhook/constructs/queuedworker"
	"github.com/payhook/payhook/constructs/webhookingress"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/cfnrules"
)

// The constructs' shapes that only payhook's CloudFormation rules gate (internal/cfnrules)
// can judge are tested here, beside the gate: the constructs' own module knows nothing of it.

// rules applies CloudFormation's own rules (dependency cycles, dangling references, alarm
// delivery, invoke permissions) to a synthesized template.
func rules(t *testing.T, tpl constructstest.Template) cfnrules.Report {
	t.Helper()
	b, err := json.Marshal(tpl)
	require.NoError(t, err)
	parsed, err := cfn.Parse(t.Name(), b)
	require.NoError(t, err)
	return cfnrules.Check(parsed)
}

// jsonText is v as JSON text.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestWorkerAlarmsFitTheDeploymentGroupWithoutCycle(t *testing.T) {
	// GIVEN a worker whose consumer deploys through CodeDeploy
	stack := constructstest.NewStack(synthesized.app, t.Name())
	w := queuedworker.NewQueuedWorker(stack, "Worker", &queuedworker.QueuedWorkerProps{
		Consumer: alarmedfunction.AlarmedFunctionProps{
			CodeDir:          constructstest.CodeDir(t),
			DeploymentConfig: awscodedeploy.LambdaDeploymentConfig_LINEAR_10PERCENT_EVERY_1MINUTE(),
		},
	})
	// WHEN a team adds the queue alarms to the consumer's deployment group too
	w.Consumer.DeploymentGroup.AddAlarm(w.DeadLetterDepthAlarm)
	w.Consumer.DeploymentGroup.AddAlarm(w.OldestMessageAgeAlarm)
	tpl := constructstest.Synth(t, stack)

	// THEN the template breaks none of CloudFormation's rules (no cycle, and the event
	// source's role may poll its queue)
	assert.NoError(t, rules(t, tpl).Err())
	_, dg := tpl.One(t, "AWS::CodeDeploy::DeploymentGroup")
	assert.Len(t, constructstest.Get(dg, "AlarmConfiguration", "Alarms"), 6)
}

func TestIngressAlarmsFitTheDeploymentGroupWithoutCycle(t *testing.T) {
	// GIVEN an ingress whose handler deploys through CodeDeploy
	stack, w := canaryIngress(t)
	// WHEN a team adds every API alarm to the handler's deployment group (its own four are in it)
	for _, a := range w.Alarms[:2] {
		w.Handler.DeploymentGroup.AddAlarm(a)
	}
	tpl := constructstest.Synth(t, stack)

	// THEN the template breaks none of CloudFormation's rules: no dependency cycle
	report := rules(t, tpl)
	assert.NoError(t, report.Err())
	_, dg := tpl.One(t, "AWS::CodeDeploy::DeploymentGroup")
	assert.Len(t, constructstest.Get(dg, "AlarmConfiguration", "Alarms"), 6)

	// AND the API alarms name the stage literally, not through a reference to the Stage
	assert.Contains(t, jsonText(tpl.AlarmOn(t, "5XXError")["Dimensions"]), `{"Name":"Stage","Value":"v1"}`)
	assert.Contains(t, jsonText(tpl.AlarmOn(t, "Latency")["Dimensions"]), `{"Name":"Stage","Value":"v1"}`)
}

func TestStageReferencingAlarmInDeploymentGroupIsACycle(t *testing.T) {
	// GIVEN the same ingress, and an alarm on the Stage's own metric (dimension Ref Stage),
	// the shape that made the staging and prod templates undeployable
	stack, w := canaryIngress(t)
	a := awscloudwatch.NewAlarm(stack, jsii.String("StageAlarm"), &awscloudwatch.AlarmProps{
		Metric: w.Stage.MetricServerError(nil), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
	})
	// WHEN it is added to the deployment group
	w.Handler.DeploymentGroup.AddAlarm(a)

	// THEN the rules gate reports the cycle, naming the alias, the group, the alarm and the stage
	report := rules(t, constructstest.Synth(t, stack))
	require.Error(t, report.Err())
	msg := report.Err().Error()
	for _, want := range []string{"dependency-cycle", "HandlerAlias", "DeploymentGroup", "StageAlarm", "DeploymentStage"} {
		assert.Contains(t, msg, want)
	}
}

// canaryIngress is an ingress with its defaults whose handler deploys through a CodeDeploy
// canary, in a stack of its own.
func canaryIngress(t *testing.T) (awscdk.Stack, *webhookingress.WebhookIngress) {
	t.Helper()
	stack := constructstest.NewStack(synthesized.app, t.Name())
	return stack, webhookingress.NewWebhookIngress(stack, "Ingress", &webhookingress.WebhookIngressProps{
		Handler: alarmedfunction.AlarmedFunctionProps{
			CodeDir:          constructstest.CodeDir(t),
			DeploymentConfig: awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_5MINUTES(),
		},
	})
}
