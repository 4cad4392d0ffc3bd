package payments

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// upper splits an alarm's construct id into words: "Server5xxAlarm" → "Server5xx", "Alarm".
var upper = regexp.MustCompile(`[A-Z][a-z0-9]*`)

// RunbookAnchor is the anchor of an alarm's runbook entry, from the id of its Alarm
// construct: "ErrorRateAlarm" is "alarm-error-rate", "Server5xxAlarm" "alarm-server5xx".
func RunbookAnchor(alarmID string) string {
	words := upper.FindAllString(strings.TrimSuffix(alarmID, "Alarm"), -1)
	return "alarm-" + strings.ToLower(strings.Join(words, "-"))
}

// runbookLinks ends every alarm's description with its runbook entry: the env file's
// alarms.runbook_url and the alarm's anchor (RunbookAnchor), so the page says what to do.
func (b *builder) runbookLinks() {
	for _, c := range *b.s.Stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		alarm, ok := c.(awscloudwatch.CfnAlarm)
		if !ok || !*awscdk.CfnResource_IsCfnResource(c) || *alarm.CfnResourceType() != "AWS::CloudWatch::Alarm" {
			continue
		}
		desc := ""
		if d := alarm.AlarmDescription(); d != nil {
			desc = *d + " "
		}
		link := "Runbook: " + b.e.Alarms.RunbookURL + "#" + RunbookAnchor(*alarm.Node().Scope().Node().Id())
		alarm.SetAlarmDescription(jsii.String(desc + link))
	}
}
