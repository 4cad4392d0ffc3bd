package payments

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagSuppression is a cdk-nag finding payhook accepts, with its reason, on the resources of
// the listed CloudFormation types only (further narrowed by a path suffix when set): a
// finding on any other resource fails the build.
type nagSuppression struct {
	id, reason string
	appliesTo  []any
	types      []string
	pathSuffix string
}

// nagSuppressions are the cdk-nag findings payhook accepts. The AwsSolutions and PCI DSS 3.2.1
// packs run over every environment in tests/ (TestNagGates); anything not listed here fails
// the build, and TestNagSuppressionsArePerResource fails on a stack-wide suppression.
var nagSuppressions = []nagSuppression{
	{id: "AwsSolutions-IAM4", types: []string{"AWS::IAM::Role"},
		reason: "AWSLambdaBasicExecutionRole (log delivery), AmazonAPIGatewayPushToCloudWatchLogs (API Gateway account logging role) and AWSCodeDeployRoleForLambdaLimited (traffic shifting) are the AWS-maintained minimal policies for those services.",
		appliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"}},
	{id: "AwsSolutions-IAM5", types: []string{"AWS::IAM::Policy"}, pathSuffix: "/ServiceRole/DefaultPolicy/Resource",
		reason:    "A function role's default policy: X-Ray PutTraceSegments/PutTelemetryRecords accept only Resource * (TestOnlyXRayIsGrantedOnEveryResource keeps * to them); table grants name the table's own indexes (table/index/*) for the outbox and failure lists; KMS GenerateDataKey* on the alerts key is what SNS publishing to an encrypted topic needs.",
		appliesTo: []any{"Resource::*", "Action::kms:GenerateDataKey*", &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Table[A-Z0-9]+\.Arn>\/index\/\*$/g`)}}},
	{id: "AwsSolutions-APIG2", types: []string{"AWS::ApiGateway::RestApi"},
		reason: "The ingest function validates every request itself so senders get field-level 400/413/415 JSON errors; an API Gateway validator would answer first with generic messages."},
	{id: "AwsSolutions-APIG4", types: []string{"AWS::ApiGateway::Method"},
		reason: "Webhook senders are machines: every request needs the API key and (for signed providers) a verified HMAC signature; IAM or Cognito authorizers do not apply."},
	{id: "AwsSolutions-COG4", types: []string{"AWS::ApiGateway::Method"},
		reason: "See AwsSolutions-APIG4: no end users, so no Cognito user pool."},
	{id: "AwsSolutions-SMG4", types: []string{"AWS::SecretsManager::Secret"},
		reason: "The secret holds provider-issued webhook signing secrets, rotated by the provider and then added to the list (several secrets are accepted during a rotation); Secrets Manager cannot rotate them."},
	{id: "PCI.DSS.321-IAMNoInlinePolicy", types: []string{"AWS::IAM::Policy", "AWS::IAM::Role"},
		reason: "Inline policies are the least-privilege grants CDK generates per function; each role is owned by one function."},
	{id: "PCI.DSS.321-LambdaInsideVPC", types: []string{"AWS::Lambda::Function"},
		reason: "The functions reach only AWS public service endpoints (DynamoDB, SQS, SNS, Secrets Manager) over TLS with IAM authorization; they hold no network path to a cardholder-data environment."},
	{id: "PCI.DSS.321-CloudWatchLogGroupEncrypted", types: []string{"AWS::Logs::LogGroup"},
		reason: "Logs never contain payment bodies, card data or secrets (ingest logs identifiers only; WAF logs redact the API key and signature headers); CloudWatch Logs encrypts them at rest with service-managed keys."},
	{id: "PCI.DSS.321-SecretsManagerUsingKMSKey", types: []string{"AWS::SecretsManager::Secret"},
		reason: "The signing secrets use the AWS-managed Secrets Manager key; IAM limits reading them to the ingest role of this stack and, in the pipeline, to the smoke project role of this environment."},
	{id: "PCI.DSS.321-APIGWSSLEnabled", types: []string{"AWS::ApiGateway::Stage"},
		reason: "Client certificates authenticate API Gateway to HTTP backends; the only integration is a Lambda proxy."},
	{id: "PCI.DSS.321-APIGWCacheEnabledAndEncrypted", types: []string{"AWS::ApiGateway::Stage"},
		reason: "Webhook POSTs must never be answered from a cache: every delivery has to reach the idempotency check."},
}

// SuppressAcceptedNagFindings records payhook's accepted cdk-nag findings on each resource
// of stack they hold for (call it once every resource exists).
func SuppressAcceptedNagFindings(stack awscdk.Stack) {
	for _, child := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		res, ok := child.(awscdk.CfnResource)
		if !ok || !*awscdk.CfnResource_IsCfnResource(child) {
			continue
		}
		var list []*cdknag.NagPackSuppression
		for _, s := range nagSuppressions {
			if !s.holdsFor(*res.CfnResourceType(), *child.Node().Path()) {
				continue
			}
			p := &cdknag.NagPackSuppression{Id: jsii.String(s.id), Reason: jsii.String(s.reason)}
			if s.appliesTo != nil {
				at := s.appliesTo
				p.AppliesTo = &at
			}
			list = append(list, p)
		}
		if len(list) > 0 {
			cdknag.NagSuppressions_AddResourceSuppressions(child, &list, jsii.Bool(false))
		}
	}
}

func (s nagSuppression) holdsFor(typ, path string) bool {
	for _, t := range s.types {
		if t == typ && strings.HasSuffix(path, s.pathSuffix) {
			return true
		}
	}
	return false
}
