package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/keys"
)

// Retention of what the pipeline keeps for audit: build logs, superseded artifact versions
// and S3 access logs, a year (what AWS Control Tower's CT.CLOUDWATCH.PR.2 asks of logs).
const auditDays = 365

// Storage is what the pipeline keeps: artifacts, the synth step's module cache, the access
// logs of both buckets, the CodeBuild logs, and the notifications topic.
type Storage struct {
	// ArtifactKey encrypts ArtifactBucket; the target accounts' deploy roles may decrypt.
	ArtifactKey awskms.Key
	// ArtifactBucket holds every execution's artifacts. Versioned: an object that is
	// overwritten (only the pipeline's roles may write) keeps its earlier version for a year,
	// so what an approval approved can always be shown; the verify step after each approval
	// refuses an assembly whose digest differs from the one the approval named.
	ArtifactBucket awss3.Bucket
	// CacheKey encrypts CacheBucket.
	CacheKey awskms.Key
	// CacheBucket keeps the synth step's Go module cache between runs; no other step reads
	// or writes it, and the synth step verifies it against go.sum (go mod verify) first.
	CacheBucket awss3.Bucket
	// AccessLogs receives the S3 server access logs of both buckets (SSE-S3: the only
	// encryption S3 log delivery writes to).
	AccessLogs awss3.Bucket
	// LogKey encrypts BuildLogs.
	LogKey awskms.Key
	// BuildLogs receives the logs of every CodeBuild project of the pipeline.
	BuildLogs awslogs.LogGroup
	// NotificationKey encrypts Notifications (CDK lets CodeStar Notifications use it when the
	// execution state rule targets the topic).
	NotificationKey awskms.Key
	// Notifications receives approvals, permission checks and execution state changes.
	Notifications awssns.Topic
}

// newStorage creates the pipeline's buckets, log group and topic. Buckets and logs are
// retained when the stack is deleted: they are the audit trail of what was deployed.
func (d *Stack) newStorage(pc envs.Pipeline) {
	s := &d.Storage
	s.AccessLogs = awss3.NewBucket(d.Stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(auditDays)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1))}},
	})
	eventBridge(s.AccessLogs)
	s.ArtifactKey = keys.New(d.Stack, "ArtifactKey", "payhook pipeline: artifacts", awscdk.RemovalPolicy_RETAIN)
	s.ArtifactBucket = d.bucket("Artifacts", s.ArtifactKey, "artifacts/", auditDays, auditDays)
	s.CacheKey = keys.New(d.Stack, "BuildCacheKey", "payhook pipeline: the synth step's Go module cache", awscdk.RemovalPolicy_RETAIN)
	s.CacheBucket = d.bucket("BuildCache", s.CacheKey, "build-cache/", 30, 1)
	s.LogKey = keys.New(d.Stack, "BuildLogKey", "payhook pipeline: CodeBuild logs", awscdk.RemovalPolicy_RETAIN)
	keys.AllowLogs(s.LogKey)
	s.BuildLogs = awslogs.NewLogGroup(d.Stack, jsii.String("BuildLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/payhook/pipeline/codebuild"),
		EncryptionKey: s.LogKey,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	s.NotificationKey = keys.New(d.Stack, "NotificationKey", "payhook pipeline: notifications topic", awscdk.RemovalPolicy_DESTROY)
	s.Notifications = awssns.NewTopic(d.Stack, jsii.String("PipelineNotifications"), &awssns.TopicProps{
		DisplayName: jsii.String("payhook pipeline"),
		EnforceSSL:  jsii.Bool(true),
		MasterKey:   s.NotificationKey,
	})
	for _, addr := range pc.NotificationEmails {
		s.Notifications.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
}

// bucket is a KMS-encrypted, versioned, TLS-only private bucket whose access logs go to
// AccessLogs under logPrefix; objects expire after days, superseded versions after
// noncurrentDays. It announces its events on EventBridge (AWS Control Tower's CT.S3.PR.4),
// set on the L1 bucket: CDK's eventBridgeEnabled would add a Lambda-backed custom resource.
func (d *Stack) bucket(id string, key awskms.Key, logPrefix string, days, noncurrentDays float64) awss3.Bucket {
	b := awss3.NewBucket(d.Stack, jsii.String(id), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     key,
		BucketKeyEnabled:  jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(days)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(noncurrentDays))}},
	})
	eventBridge(b)
	d.logAccess(b, logPrefix)
	return b
}

// logAccess sends b's server access logs to AccessLogs under prefix. S3 log delivery writes
// by AccessLogs' bucket policy, for b alone (no ACL: ownership is enforced).
func (d *Stack) logAccess(b awss3.Bucket, prefix string) {
	logs := d.Storage.AccessLogs
	b.Node().DefaultChild().(awss3.CfnBucket).SetLoggingConfiguration(&awss3.CfnBucket_LoggingConfigurationProperty{
		DestinationBucketName: logs.BucketName(), LogFilePrefix: jsii.String(prefix)})
	logs.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("S3ServerAccessLogs" + strings.TrimSuffix(strings.ReplaceAll(prefix, "-", ""), "/")),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logging.s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*logs.BucketArn() + "/" + prefix + "*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": d.Stack.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": b.BucketArn()}},
	}))
}

// eventBridge turns on EventBridge notifications on the bucket's L1 resource.
func eventBridge(b awss3.Bucket) {
	cfn := b.Node().DefaultChild().(awss3.CfnBucket)
	cfn.SetNotificationConfiguration(&awss3.CfnBucket_NotificationConfigurationProperty{
		EventBridgeConfiguration: &awss3.CfnBucket_EventBridgeConfigurationProperty{EventBridgeEnabled: jsii.Bool(true)},
	})
}

// logSecurityCheck sends the permissions check's CodeBuild logs (a project CDK Pipelines
// builds outside CodeBuildDefaults) to BuildLogs, like every other project's (AWS Control
// Tower's CT.CODEBUILD.PR.3).
func (d *Stack) logSecurityCheck() error {
	check := d.Pipeline.Node().TryFindChild(jsii.String("PipelinesSecurityCheck"))
	if check == nil {
		return nil // no env retains data: no check
	}
	project, ok := check.Node().TryFindChild(jsii.String("CDKSecurityCheck")).(awscodebuild.Project)
	if !ok {
		return fmt.Errorf("permissions check: no CodeBuild project")
	}
	cfn := project.Node().DefaultChild().(awscodebuild.CfnProject)
	cfn.SetLogsConfig(&awscodebuild.CfnProject_LogsConfigProperty{CloudWatchLogs: &awscodebuild.CfnProject_CloudWatchLogsConfigProperty{
		Status: jsii.String("ENABLED"), GroupName: d.Storage.BuildLogs.LogGroupName()}})
	d.Storage.BuildLogs.GrantWrite(project.Role())
	return nil
}

// keepArtifacts takes s3:DeleteObject* out of every grant on the artifact bucket (CDK
// Pipelines grants read-write): no role of the pipeline deletes an artifact, so none can
// remove the version an approval named.
func (d *Stack) keepArtifacts() {
	bucket := fmt.Sprint(d.Stack.Resolve(d.Storage.ArtifactBucket.BucketArn()))
	for _, r := range d.ownResources() {
		p, ok := r.(awsiam.CfnPolicy)
		if !ok || *r.CfnResourceType() != "AWS::IAM::Policy" {
			continue
		}
		doc, _ := d.Stack.Resolve(p.PolicyDocument()).(map[string]any)
		statements, _ := doc["Statement"].([]any)
		changed := false
		for _, raw := range statements {
			st, _ := raw.(map[string]any)
			actions, isList := st["Action"].([]any)
			if !isList || !strings.Contains(fmt.Sprint(st["Resource"]), bucket) {
				continue
			}
			kept := slices.DeleteFunc(slices.Clone(actions), func(a any) bool { return a == "s3:DeleteObject*" })
			if len(kept) != len(actions) {
				st["Action"], changed = kept, true
			}
		}
		if changed {
			p.SetPolicyDocument(doc)
		}
	}
}
