package delivery

import (
	"regexp"

	"github.com/payhook/payhook/internal/nagsuppress"
)

// Patterns of the findings CDK Pipelines' generated grants raise, each scoped to one bucket,
// key, project or tagged role.
var (
	artifactGrants = []any{"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
		"Action::s3:DeleteObject*", "Action::s3:Abort*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
		nagsuppress.Regex(`^Resource::<PipelineArtifactsBucket[A-Z0-9]+\.Arn>\/\*$`)}
	projectLogs = []any{
		nagsuppress.Regex(`^Resource::arn:<AWS::Partition>:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/codebuild\/<[A-Za-z0-9]+>:\*$`),
		nagsuppress.Regex(`^Resource::arn:<AWS::Partition>:codebuild:[a-z0-9-]+:\d{12}:report-group\/<[A-Za-z0-9]+>-\*$`)}
	policies = []string{"AWS::IAM::Policy"}
)

// nagSuppressions are the cdk-nag findings the pipeline stack accepts, each on the resources
// it is true of (TestNagGates runs AwsSolutions and PCI DSS 3.2.1 over the pipeline too).
var nagSuppressions = []nagsuppress.Suppression{
	{ID: "AwsSolutions-IAM5", Types: policies, AppliesTo: artifactGrants,
		Reason: "CDK Pipelines' grant on the pipeline's own artifact bucket and key: object actions on that bucket's objects (bucket/*) and data-key actions on its key only."},
	{ID: "AwsSolutions-IAM5", Types: policies, AppliesTo: projectLogs,
		Reason: "CodeBuild's log streams and report groups of this project: the project's name is fixed; the streams and reports under it are created per build."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/Build/Synth/CdkBuildProject/Role/DefaultPolicy/`),
		AppliesTo: []any{nagsuppress.Regex(`^Resource::<BuildCache[A-Z0-9]+\.Arn>\/\*$`)},
		Reason:    "The synth step's Go module cache: objects of its own bucket, verified against go.sum (go mod verify) before use."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/SmokeRole-[a-z0-9-]+/DefaultPolicy/`),
		AppliesTo: []any{nagsuppress.Regex(`^Resource::arn:[a-z-]+:apigateway:[a-z0-9-]+::\/apikeys\/\*$`),
			nagsuppress.Regex(`^Resource::arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:payhook\/[a-z0-9-]+\/smoke-signing-secret-\*$`)},
		Reason: "The smoke step reads its env's API key (API key ids are generated; the statement requires the env's tag) and its env's secret (the * is the suffix Secrets Manager appends to the name)."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/PipelinesSecurityCheck/CDKSecurityCheck/Role/DefaultPolicy/`),
		AppliesTo: []any{"Resource::*", nagsuppress.Regex(`^Resource::<PipelinePipelinesSecurityCheckCDKPipelinesAutoApprove[A-Z0-9]+\.Arn>:\*$`)},
		Reason:    "The permission check may assume only roles tagged aws-cdk:bootstrap-role=deploy (the condition of the statement) and invoke the versions of its own auto-approve function."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/PipelinesSecurityCheck/CDKPipelinesAutoApprove/ServiceRole/DefaultPolicy/`),
		AppliesTo: []any{"Resource::*"},
		Reason:    "The auto-approve function may approve only pipelines tagged SECURITY_CHECK=ALLOW_APPROVE (the condition of the statement)."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/UpdatePipeline/SelfMutation/Role/DefaultPolicy/`),
		AppliesTo: []any{"Resource::*", nagsuppress.Regex(`^Resource::arn:\*:iam::\d{12}:role\/\*$`)},
		Reason:    "Self-mutation deploys the pipeline stack: it looks stacks and the bootstrap bucket up by name (DescribeStacks, ListBucket) and may assume only roles tagged as CDK bootstrap roles (the condition of the statement)."},
	{ID: "AwsSolutions-IAM4", Types: []string{"AWS::IAM::Role"}, Path: regexp.MustCompile(`/CDKPipelinesAutoApprove/`),
		AppliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
		Reason:    "AWSLambdaBasicExecutionRole is the AWS-maintained minimal policy for the function's log delivery."},
	{ID: "PCI.DSS.321-IAMNoInlinePolicy", Types: policies,
		Reason: "CDK Pipelines generates one role per project and action with an inline least-privilege policy; each role serves one project or action."},
	{ID: "PCI.DSS.321-LambdaInsideVPC", Types: []string{"AWS::Lambda::Function"}, Path: regexp.MustCompile(`/CDKPipelinesAutoApprove/`),
		Reason: "The auto-approve function calls only CodePipeline's public API over TLS; it holds no network path to a cardholder-data environment."},
	{ID: "PCI.DSS.321-CodeBuildProjectSourceRepoUrl", Types: []string{"AWS::CodeBuild::Project"},
		Reason: "Every project's source is the pipeline's artifact (type CODEPIPELINE): no repository URL, so no credentials in one; the repository is reached through a CodeConnections connection."},
	{ID: "AwsSolutions-S1", Types: []string{"AWS::S3::Bucket"},
		Reason: "The bucket holds pipeline artifacts or the module cache, reproducible from the repository at a commit; no cardholder data. Only the pipeline's roles are granted access."},
	{ID: "PCI.DSS.321-S3BucketLoggingEnabled", Types: []string{"AWS::S3::Bucket"},
		Reason: "See AwsSolutions-S1: build artifacts and caches only, reproducible from the repository."},
	{ID: "PCI.DSS.321-S3BucketReplicationEnabled", Types: []string{"AWS::S3::Bucket"},
		Reason: "Build artifacts and caches are reproducible from the repository at a commit: a second copy adds nothing."},
	{ID: "PCI.DSS.321-S3BucketVersioningEnabled", Types: []string{"AWS::S3::Bucket"},
		Reason: "Artifact keys are unique per execution and never overwritten; the module cache is verified against go.sum before use, so an overwritten object cannot pass unnoticed."},
	{ID: "PCI.DSS.321-SNSEncryptedKMS", Types: []string{"AWS::SNS::Topic"}, Path: regexp.MustCompile(`/PipelineNotifications/`),
		Reason: "Pipeline notifications carry execution states, approval links and commit ids, no payment data or secrets; SNS encrypts at rest with its service key."},
}
