package webhookingress

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// WafLogGroupPrefix is the prefix WAF requires of a CloudWatch Logs destination's name.
const WafLogGroupPrefix = "aws-waf-logs-"

// DefaultRedactedHeaders returns the headers WAF logs never record unless
// WebhookIngressProps.RedactedHeaders says otherwise: the API key and the common webhook
// signature headers (Standard Webhooks' webhook-signature, Stripe's Stripe-Signature). A
// new slice each call: there is no shared list to change.
func DefaultRedactedHeaders() []string {
	return []string{"x-api-key", "webhook-signature", "stripe-signature"}
}

// newWafLogging sends the WebACL's log records of the requests it blocked or counted (never
// the allowed ones: they are in the access logs) to an aws-waf-logs- log group, with
// p.RedactedHeaders redacted.
func newWafLogging(c constructs.Construct, acl awswafv2.CfnWebACL, p WebhookIngressProps) (awslogs.LogGroup, awswafv2.CfnLoggingConfiguration) {
	name := WafLogGroupPrefix + *awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{
		MaxLength: jsii.Number(512 - len(WafLogGroupPrefix)), Separator: jsii.String("-")})
	group := awslogs.NewLogGroup(c, jsii.String("WafLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		Retention:     p.AccessLogRetention,
		RemovalPolicy: p.RemovalPolicy,
		EncryptionKey: p.LogEncryptionKey,
	})
	// WAF takes the log group's ARN without the ":*" suffix that LogGroupArn carries.
	arn := awscdk.Stack_Of(c).FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"),
		Resource: jsii.String("log-group"), ResourceName: group.LogGroupName(), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
	redacted := make([]any, 0, len(*p.RedactedHeaders))
	for _, h := range *p.RedactedHeaders {
		redacted = append(redacted, &awswafv2.CfnLoggingConfiguration_FieldToMatchProperty{
			SingleHeader: map[string]any{"Name": *h}})
	}
	keep := func(action string) any {
		return map[string]any{"ActionCondition": map[string]any{"Action": action}}
	}
	cfg := awswafv2.NewCfnLoggingConfiguration(c, jsii.String("WafLogging"), &awswafv2.CfnLoggingConfigurationProps{
		ResourceArn:           acl.AttrArn(),
		LogDestinationConfigs: &[]any{arn},
		RedactedFields:        &redacted,
		LoggingFilter: map[string]any{
			"DefaultBehavior": "DROP",
			"Filters": []any{map[string]any{"Behavior": "KEEP", "Requirement": "MEETS_ANY",
				"Conditions": []any{keep("BLOCK"), keep("COUNT")}}},
		},
	})
	return group, cfg
}
