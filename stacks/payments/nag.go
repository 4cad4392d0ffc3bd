package payments

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagSuppressions are the cdk-nag findings payhook accepts, each with its reason. The
// AwsSolutions and PCI DSS 3.2.1 packs run over every environment in tests/ (TestNagGates);
// anything not listed here fails the build.
var nagSuppressions = []struct {
	id, reason string
	appliesTo  []any
}{
	{"AwsSolutions-IAM4", "AWSLambdaBasicExecutionRole (log delivery), AmazonAPIGatewayPushToCloudWatchLogs (API Gateway account logging role) and AWSCodeDeployRoleForLambdaLimited (traffic shifting) are the AWS-maintained minimal policies for those services.",
		[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"}},
	{"AwsSolutions-IAM5", "X-Ray PutTraceSegments/PutTelemetryRecords accept only Resource *; table grants name the table's own indexes (table/index/*) for the outbox and failure lists; KMS GenerateDataKey* on the alerts key is what SNS publishing to an encrypted topic needs.",
		[]any{"Resource::*", "Action::kms:GenerateDataKey*", &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Table[A-Z0-9]+\.Arn>\/index\/\*$/g`)}}},
	{"AwsSolutions-APIG2", "The ingest function validates every request itself so senders get field-level 400/413/415 JSON errors; an API Gateway validator would answer first with generic messages.", nil},
	{"AwsSolutions-APIG4", "Webhook senders are machines: every request needs the API key and (for signed providers) a verified HMAC signature; IAM or Cognito authorizers do not apply.", nil},
	{"AwsSolutions-COG4", "See AwsSolutions-APIG4: no end users, so no Cognito user pool.", nil},
	{"AwsSolutions-SMG4", "The secret holds provider-issued webhook signing secrets, rotated by the provider and then added to the list (several secrets are accepted during a rotation); Secrets Manager cannot rotate them.", nil},
	{"PCI.DSS.321-IAMNoInlinePolicy", "Inline policies are the least-privilege grants CDK generates per function; each role is owned by one function.", nil},
	{"PCI.DSS.321-LambdaInsideVPC", "The functions reach only AWS public service endpoints (DynamoDB, SQS, SNS, Secrets Manager) over TLS with IAM authorization; they hold no network path to a cardholder-data environment.", nil},
	{"PCI.DSS.321-CloudWatchLogGroupEncrypted", "Logs never contain payment bodies, card data or secrets (ingest logs identifiers only); CloudWatch Logs encrypts them at rest with service-managed keys.", nil},
	{"PCI.DSS.321-SecretsManagerUsingKMSKey", "The signing secrets use the AWS-managed Secrets Manager key; access is limited to the ingest role by IAM.", nil},
	{"PCI.DSS.321-APIGWSSLEnabled", "Client certificates authenticate API Gateway to HTTP backends; the only integration is a Lambda proxy.", nil},
	{"PCI.DSS.321-APIGWCacheEnabledAndEncrypted", "Webhook POSTs must never be answered from a cache: every delivery has to reach the idempotency check.", nil},
	{"PCI.DSS.321-WAFv2LoggingEnabled", "WAF logs record request headers, including the API key and signature headers, in another store; WAF decisions stay visible as CloudWatch metrics and sampled requests per rule.", nil},
}

// SuppressAcceptedNagFindings records payhook's accepted cdk-nag findings on stack.
func SuppressAcceptedNagFindings(stack awscdk.Stack) {
	list := make([]*cdknag.NagPackSuppression, 0, len(nagSuppressions))
	for _, s := range nagSuppressions {
		p := &cdknag.NagPackSuppression{Id: jsii.String(s.id), Reason: jsii.String(s.reason)}
		if s.appliesTo != nil {
			at := s.appliesTo
			p.AppliesTo = &at
		}
		list = append(list, p)
	}
	cdknag.NagSuppressions_AddStackSuppressions(stack, &list, jsii.Bool(true))
}
