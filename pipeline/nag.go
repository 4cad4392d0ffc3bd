package pipeline

import (
	"regexp"

	"github.com/payhook/payhook/internal/suppress"
)

// Patterns of the findings CDK Pipelines' generated grants raise, each scoped to one bucket,
// key, project or tagged role.
var (
	artifactGrants = []any{"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
		"Action::s3:Abort*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
		suppress.Regex(`^Resource::<Artifacts[A-Z0-9]+\.Arn>\/\*$`)}
	buckets     = []string{"AWS::S3::Bucket"}
	accessLogs  = regexp.MustCompile(`/AccessLogs/Resource$`)
	projectLogs = []any{
		suppress.Regex(`^Resource::arn:<AWS::Partition>:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/codebuild\/<[A-Za-z0-9]+>:\*$`),
		suppress.Regex(`^Resource::arn:<AWS::Partition>:codebuild:[a-z0-9-]+:\d{12}:report-group\/<[A-Za-z0-9]+>-\*$`)}
	policies = []string{"AWS::IAM::Policy"}
)

// nagSuppressions are the cdk-nag findings the pipeline stack accepts, each on the resources
// it is true of (TestNagGates runs AwsSolutions and PCI DSS 3.2.1 over the pipeline too).
var nagSuppressions = []suppress.Suppression{
	{ID: "AwsSolutions-IAM5", Types: policies, AppliesTo: artifactGrants,
		Reason: "CDK Pipelines' grant on the pipeline's own artifact bucket and key: object actions on that bucket's objects (bucket/*) and data-key actions on its key only."},
	{ID: "AwsSolutions-IAM5", Types: policies, AppliesTo: projectLogs,
		Reason: "CodeBuild's log streams and report groups of this project: the project's name is fixed; the streams and reports under it are created per build."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/Build/Synth/CdkBuildProject/Role/DefaultPolicy/`),
		AppliesTo: []any{suppress.Regex(`^Resource::<BuildCache[A-Z0-9]+\.Arn>\/\*$`), "Action::s3:DeleteObject*"},
		Reason:    "The synth step's Go module cache: objects of its own bucket (CodeBuild replaces its cache archive there), verified against go.sum (go mod verify) before use. The artifact bucket grants no delete."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/PipelinesSecurityCheck/CDKSecurityCheck/Role/DefaultPolicy/`),
		AppliesTo: []any{"Resource::*", suppress.Regex(`^Resource::<PipelinePipelinesSecurityCheckCDKPipelinesAutoApprove[A-Z0-9]+\.Arn>:\*$`)},
		Reason:    "The permission check may assume only roles tagged aws-cdk:bootstrap-role=deploy (the condition of the statement) and invoke the versions of its own auto-approve function."},
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/UpdatePipeline/SelfMutation/Role/DefaultPolicy/`),
		AppliesTo: []any{"Resource::*", suppress.Regex(`^Resource::arn:\*:iam::\d{12}:role\/\*$`)},
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
	{ID: "AwsSolutions-S1", Types: buckets, Path: accessLogs,
		Reason: "The bucket that receives the other buckets' server access logs: logging its own accesses into itself would log each delivery again."},
	{ID: "PCI.DSS.321-S3BucketLoggingEnabled", Types: buckets, Path: accessLogs,
		Reason: "See AwsSolutions-S1: the access-log bucket itself."},
	{ID: "PCI.DSS.321-S3DefaultEncryptionKMS", Types: buckets, Path: accessLogs,
		Reason: "S3 server access log delivery writes only to buckets encrypted with S3-managed keys (SSE-S3); the logs hold request metadata, no payment data."},
	{ID: "PCI.DSS.321-S3BucketReplicationEnabled", Types: buckets,
		Reason: "Build artifacts, caches and their access logs are reproducible from the repository at a commit or are audit copies already versioned: a second region adds nothing the pipeline needs."},
	{Guard: "s3_bucket_default_encryption_kms_check", Types: buckets, Path: accessLogs,
		Reason: "CT.S3.PR.10: S3 server access log delivery writes only to buckets encrypted with S3-managed keys (SSE-S3)."},
	{Guard: "s3_bucket_logging_enabled_check", Types: buckets, Path: accessLogs,
		Reason: "CT.S3.PR.2: this is the access-log bucket; logging its own accesses into itself would log each delivery again."},
	{Guard: "s3_bucket_object_lock_enabled_check", Types: buckets,
		Reason: "CT.S3.PR.9: Object Lock with a default retention makes every PutObject carry Content-MD5 or a checksum, which CodePipeline's and CodeBuild's artifact uploads are not documented to send, and S3 log delivery refuses such a bucket. Instead the buckets are versioned, no role of the pipeline may delete an artifact, and the verify step after each approval refuses an assembly whose digest differs from the approved one."},
	{Guard: "lambda_inside_vpc_check", Types: []string{"AWS::Lambda::Function"}, Path: regexp.MustCompile(`/CDKPipelinesAutoApprove/`),
		Reason: "CT.LAMBDA.PR.3: the permissions check's auto-approve function calls only CodePipeline's public API over TLS; it holds no network path to a cardholder-data environment."},
}

// smokeNagSuppressions are the findings the env's smoke role (addSmokeRole) raises in its
// payments stack.
var smokeNagSuppressions = []suppress.Suppression{
	{ID: "AwsSolutions-IAM5", Types: policies, Path: regexp.MustCompile(`/SmokeRole/DefaultPolicy/Resource$`),
		AppliesTo: []any{suppress.Regex(`^Resource::arn:[a-z-]+:apigateway:[a-z0-9-]+::\/apikeys\/\*$`),
			suppress.Regex(`^Resource::arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:payhook\/[a-z0-9-]+\/smoke-signing-secret-\*$`),
			suppress.Regex(`^Resource::arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key\/\*$`)},
		Reason: "The pipeline's smoke role reads this env's API key (API key ids are generated; the statement requires the env's tag), the smoke provider's secret (the * is the suffix Secrets Manager appends to the name) and decrypts through Secrets Manager for that secret alone (kms:ViaService and the SecretARN encryption context; the key id is generated)."},
	{ID: "PCI.DSS.321-IAMNoInlinePolicy", Types: policies, Path: regexp.MustCompile(`/SmokeRole/DefaultPolicy/Resource$`),
		Reason: "The smoke role's own least-privilege grants (SmokeStatements), inline because they belong to this role alone."},
}
