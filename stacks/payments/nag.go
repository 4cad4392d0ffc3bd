package payments

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/suppress"
)

// The webhook methods: POST /<path> and each provider's own POST /<path>/<provider>.
var webhookMethod = regexp.MustCompile(`/Api/Default/[a-z0-9-]+(/[a-z0-9_-]+)?/POST/Resource$`)

// nagSuppressions are the cdk-nag findings payhook accepts. The AwsSolutions and PCI DSS 3.2.1
// packs run over every environment in tests/ (TestNagGates); anything not listed here fails
// the build, and TestNagSuppressionsArePerResource fails on a stack-wide suppression.
var nagSuppressions = []suppress.Suppression{
	{ID: "AwsSolutions-IAM4", Types: []string{"AWS::IAM::Role"},
		Reason: "AWSLambdaBasicExecutionRole (log delivery), AmazonAPIGatewayPushToCloudWatchLogs (API Gateway account logging role) and AWSCodeDeployRoleForLambdaLimited (traffic shifting) are the AWS-maintained minimal policies for those services.",
		AppliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"}},
	{ID: "AwsSolutions-IAM5", Types: []string{"AWS::IAM::Policy"}, Path: regexp.MustCompile(`/ServiceRole/DefaultPolicy/Resource$`),
		Reason:    "A function role's default policy: X-Ray PutTraceSegments/PutTelemetryRecords accept only Resource * (TestOnlyXRayIsGrantedOnEveryResource keeps * to them); table grants name the table's own indexes (table/index/*) for the outbox and failure lists; KMS GenerateDataKey* on the alerts key is what SNS publishing to an encrypted topic needs.",
		AppliesTo: []any{"Resource::*", "Action::kms:GenerateDataKey*", suppress.Regex(`^Resource::<Table[A-Z0-9]+\.Arn>\/index\/\*$`)}},
	{ID: "AwsSolutions-APIG2", Types: []string{"AWS::ApiGateway::RestApi"},
		Reason: "The ingest function validates every request itself so senders get field-level 400/413/415 JSON errors; an API Gateway validator would answer first with generic messages."},
	{ID: "AwsSolutions-APIG4", Types: []string{"AWS::ApiGateway::Method"}, Path: webhookMethod,
		Reason: "Webhook senders are machines: every request carries the provider's own API key, or, on a keyless provider's own path (a sender that cannot send a key, Stripe), a signature ingest verifies before reading the body; each path has its own throttle and WAF rate rule (and source addresses where the env file lists them). IAM or Cognito authorizers do not apply to machine senders."},
	{ID: "AwsSolutions-COG4", Types: []string{"AWS::ApiGateway::Method"}, Path: webhookMethod,
		Reason: "See AwsSolutions-APIG4: no end users, so no Cognito user pool."},
	{ID: "AwsSolutions-SMG4", Types: []string{"AWS::SecretsManager::Secret"}, Path: regexp.MustCompile(`/SigningSecrets/Resource$`),
		Reason: "The secret holds provider-issued webhook signing secrets, rotated by the provider and then added to the list (several secrets are accepted during a rotation); Secrets Manager cannot rotate them."},
	{ID: "AwsSolutions-SMG4", Types: []string{"AWS::SecretsManager::Secret"}, Path: regexp.MustCompile(`/SmokeSigningSecret/Resource$`),
		Reason: "The smoke provider's secret signs test notifications that move no real money and are counted in the smoke provider's own totals; replacing its value is enough to rotate it (ingest re-reads the secret on a failed signature)."},
	{ID: "PCI.DSS.321-IAMNoInlinePolicy", Types: []string{"AWS::IAM::Policy", "AWS::IAM::Role"},
		Reason: "Inline policies are the least-privilege grants CDK generates per function; each role is owned by one function."},
	{ID: "PCI.DSS.321-LambdaInsideVPC", Types: []string{"AWS::Lambda::Function"},
		Reason: "The functions reach only AWS public service endpoints (DynamoDB, SQS, SNS, Secrets Manager) over TLS with IAM authorization; they hold no network path to a cardholder-data environment."},
	{ID: "PCI.DSS.321-APIGWSSLEnabled", Types: []string{"AWS::ApiGateway::Stage"},
		Reason: "Client certificates authenticate API Gateway to HTTP backends; the only integration is a Lambda proxy."},
	{ID: "PCI.DSS.321-APIGWCacheEnabledAndEncrypted", Types: []string{"AWS::ApiGateway::Stage"},
		Reason: "Webhook POSTs must never be answered from a cache: every delivery has to reach the idempotency check."},
}

// guardSuppressions are the AWS Control Tower proactive controls (internal/guard) payhook
// accepts in env e's stack; tests/ runs every control over every template.
func guardSuppressions(e envs.Env) []suppress.Suppression {
	list := []suppress.Suppression{
		{Guard: "lambda_inside_vpc_check", Types: []string{"AWS::Lambda::Function"},
			Reason: "CT.LAMBDA.PR.3: the functions reach only AWS public service endpoints (DynamoDB, SQS, SNS, Secrets Manager, X-Ray) over TLS with IAM authorization and hold no network path to a cardholder-data environment; a VPC would add NAT or five interface endpoints per AZ for no isolation gained."},
	}
	if !e.RetainData {
		list = append(list, suppress.Suppression{Guard: "cloudwatch_log_group_retention_period_check", Types: []string{"AWS::Logs::LogGroup"},
			Reason: fmt.Sprintf("CT.CLOUDWATCH.PR.2: %s keeps logs %d days (log_retention_days); it retains no data and its logs record test traffic only. An env with retain_data keeps them at least a year (the loader refuses less).", e.File(), e.LogRetentionDays)})
	}
	return list
}

// SuppressAccepted records payhook's accepted cdk-nag findings and Control Tower controls on
// each resource of env e's stack they hold for (call it once every resource exists).
func SuppressAccepted(stack awscdk.Stack, e envs.Env) {
	suppress.Apply(stack, append(slices.Clone(nagSuppressions), guardSuppressions(e)...))
}
