package alarmedfunction_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/constructs/alarmedfunction"
	tu "github.com/payhook/payhook/constructs/constructstest"
)

// app is the one App (and jsii runtime) of this test binary; each test
// builds its own stack on it.
var app = awscdk.NewApp(nil)

// synth builds an AlarmedFunction from props in a fresh stack and returns
// the construct, the template and the stack.
func synth(t *testing.T, props *alarmedfunction.AlarmedFunctionProps, extra func(awscdk.Stack, *alarmedfunction.AlarmedFunctionProps)) (*alarmedfunction.AlarmedFunction, tu.Template) {
	t.Helper()
	stack := tu.NewStack(app, t.Name())
	if props.CodeDir == nil {
		props.CodeDir = tu.CodeDir(t)
	}
	if extra != nil {
		extra(stack, props)
	}
	var fn *alarmedfunction.AlarmedFunction
	if msg := tu.Recover(func() { fn = alarmedfunction.NewAlarmedFunction(stack, "Fn", props) }); msg != "" {
		t.Fatalf("NewAlarmedFunction panicked: %s", msg)
	}
	return fn, tu.Synth(t, stack)
}

func dimensionNames(a map[string]any) []string {
	var names []string
	for _, d := range tu.Get(a, "Dimensions").([]any) {
		names = append(names, tu.Get(d, "Name").(string))
	}
	return names
}

func TestDefaults(t *testing.T) {
	// GIVEN only a code directory
	// WHEN the construct is synthesized
	fn, tpl := synth(t, &alarmedfunction.AlarmedFunctionProps{}, nil)

	// THEN the function is a traced Go arm64 function on provided.al2023
	_, f := tpl.One(t, "AWS::Lambda::Function")
	assert.Equal(t, "provided.al2023", f["Runtime"])
	assert.Equal(t, []any{"arm64"}, f["Architectures"])
	assert.Equal(t, "bootstrap", f["Handler"])
	assert.Equal(t, map[string]any{"Mode": "Active"}, f["TracingConfig"])
	assert.EqualValues(t, 256, f["MemorySize"])
	assert.EqualValues(t, 10, f["Timeout"])
	assert.NotContains(t, f, "ReservedConcurrentExecutions", "unreserved unless asked")
	assert.NotContains(t, f, "Environment")

	// AND it logs (JSON) to its own log group, kept one month, destroyed with the stack
	lgID, lg := tpl.One(t, "AWS::Logs::LogGroup")
	assert.EqualValues(t, 30, lg["RetentionInDays"])
	assert.Equal(t, "Delete", tu.Get(tpl.Resource(lgID), "DeletionPolicy"))
	assert.Equal(t, tu.Ref(lgID), tu.Get(f, "LoggingConfig", "LogGroup"))
	assert.Equal(t, "JSON", tu.Get(f, "LoggingConfig", "LogFormat"))
	assert.Zero(t, tpl.Count("Custom::LogRetention"), "no deprecated logRetention custom resource")

	// AND a "live" alias points at the current version
	_, alias := tpl.One(t, "AWS::Lambda::Alias")
	verID, _ := tpl.One(t, "AWS::Lambda::Version")
	assert.Equal(t, "live", alias["Name"])
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{verID, "Version"}}, alias["FunctionVersion"])

	// AND four alarms watch the alias, none with actions, none breaching on missing data
	require.Equal(t, 4, tpl.Count("AWS::CloudWatch::Alarm"))
	require.Len(t, fn.Alarms, 4)
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		assert.Equal(t, "notBreaching", a["TreatMissingData"], id)
		assert.Equal(t, "GreaterThanOrEqualToThreshold", a["ComparisonOperator"], id)
		assert.EqualValues(t, 1, a["EvaluationPeriods"], id)
		assert.NotContains(t, a, "AlarmActions", id)
		assert.NotContains(t, a, "OKActions", id)
	}
	errs := tpl.AlarmOn(t, "Errors")
	assert.Equal(t, "AWS/Lambda", errs["Namespace"])
	assert.Equal(t, "Sum", errs["Statistic"])
	assert.EqualValues(t, 300, errs["Period"])
	assert.EqualValues(t, 1, errs["Threshold"])
	assert.ElementsMatch(t, []string{"FunctionName", "Resource"}, dimensionNames(errs), "alias dimensions")

	thr := tpl.AlarmOn(t, "Throttles")
	assert.Equal(t, "Sum", thr["Statistic"])
	assert.EqualValues(t, 1, thr["Threshold"])
	assert.ElementsMatch(t, []string{"FunctionName", "Resource"}, dimensionNames(thr))

	dur := tpl.AlarmOn(t, "Duration")
	assert.Equal(t, "p99", dur["ExtendedStatistic"])
	assert.EqualValues(t, 8000, dur["Threshold"], "80% of the 10 s timeout, in ms")

	_, rate := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool { return p["Metrics"] != nil })
	assert.EqualValues(t, 5, rate["Threshold"])
	var expr string
	var ids []string
	for _, m := range rate["Metrics"].([]any) {
		if e, ok := tu.Get(m, "Expression").(string); ok {
			expr = e
			continue
		}
		ids = append(ids, tu.Get(m, "Id").(string))
		assert.Equal(t, "Sum", tu.Get(m, "MetricStat", "Stat"))
		assert.EqualValues(t, 300, tu.Get(m, "MetricStat", "Period"))
	}
	assert.Contains(t, expr, "IF(invocations > 0", "zero-invocation guard")
	assert.Equal(t, alarmedfunction.ErrorRateExpression, expr)
	assert.ElementsMatch(t, []string{"errors", "invocations"}, ids)

	// AND there is no deployment group
	assert.Nil(t, fn.DeploymentGroup)
	assert.Zero(t, tpl.Count("AWS::CodeDeploy::DeploymentGroup"))
}

func TestCustomProps(t *testing.T) {
	// GIVEN every optional prop set, and an alarm topic
	props := &alarmedfunction.AlarmedFunctionProps{
		FunctionName:         jsii.String("my-fn"),
		Description:          jsii.String("does things"),
		MemorySize:           jsii.Number(1024),
		Timeout:              awscdk.Duration_Seconds(jsii.Number(30)),
		Environment:          map[string]*string{"A": jsii.String("1")},
		ReservedConcurrency:  jsii.Number(7),
		LogRetention:         awslogs.RetentionDays_ONE_WEEK,
		RemovalPolicy:        awscdk.RemovalPolicy_RETAIN,
		ErrorThreshold:       jsii.Number(3),
		ErrorRatePercent:     jsii.Number(10),
		DurationAlarmPercent: jsii.Number(50),
	}
	// WHEN the construct is synthesized
	_, tpl := synth(t, props, func(s awscdk.Stack, p *alarmedfunction.AlarmedFunctionProps) {
		p.AlarmTopic = awssns.NewTopic(s, jsii.String("Topic"), nil)
	})
	topicID, _ := tpl.One(t, "AWS::SNS::Topic")

	// THEN the function carries them
	_, f := tpl.One(t, "AWS::Lambda::Function")
	assert.Equal(t, "my-fn", f["FunctionName"])
	assert.Equal(t, "does things", f["Description"])
	assert.EqualValues(t, 1024, f["MemorySize"])
	assert.EqualValues(t, 30, f["Timeout"])
	assert.EqualValues(t, 7, f["ReservedConcurrentExecutions"])
	assert.Equal(t, "1", tu.Get(f, "Environment", "Variables", "A"))

	lgID, lg := tpl.One(t, "AWS::Logs::LogGroup")
	assert.EqualValues(t, 7, lg["RetentionInDays"])
	assert.Equal(t, "Retain", tu.Get(tpl.Resource(lgID), "DeletionPolicy"))

	// AND the thresholds follow the props
	assert.EqualValues(t, 3, tpl.AlarmOn(t, "Errors")["Threshold"])
	assert.EqualValues(t, 15000, tpl.AlarmOn(t, "Duration")["Threshold"], "50% of 30 s")
	_, rate := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool { return p["Metrics"] != nil })
	assert.EqualValues(t, 10, rate["Threshold"])

	// AND every alarm notifies the topic on ALARM and OK
	for id, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
		assert.Equal(t, []any{tu.Ref(topicID)}, a["AlarmActions"], id)
		assert.Equal(t, []any{tu.Ref(topicID)}, a["OKActions"], id)
	}
}

func TestDeploymentGroup(t *testing.T) {
	// GIVEN a canary deployment config
	props := &alarmedfunction.AlarmedFunctionProps{
		DeploymentConfig: awscodedeploy.LambdaDeploymentConfig_CANARY_10PERCENT_5MINUTES(),
	}
	// WHEN the construct is synthesized
	fn, tpl := synth(t, props, nil)

	// THEN a deployment group shifts the alias with that config
	require.NotNil(t, fn.DeploymentGroup)
	_, dg := tpl.One(t, "AWS::CodeDeploy::DeploymentGroup")
	assert.Equal(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes", dg["DeploymentConfigName"])

	// AND it rolls back on a failed deployment and on any of the four alarms
	assert.ElementsMatch(t, []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}, tu.Get(dg, "AutoRollbackConfiguration", "Events"))
	assert.Equal(t, true, tu.Get(dg, "AutoRollbackConfiguration", "Enabled"))
	assert.Equal(t, true, tu.Get(dg, "AlarmConfiguration", "Enabled"))
	var want []any
	for id := range tpl.Resources("AWS::CloudWatch::Alarm") {
		want = append(want, map[string]any{"Name": tu.Ref(id)})
	}
	assert.ElementsMatch(t, want, tu.Get(dg, "AlarmConfiguration", "Alarms"))

	// AND the alias is updated through CodeDeploy
	aliasID, _ := tpl.One(t, "AWS::Lambda::Alias")
	assert.NotNil(t, tu.Get(tpl.Resource(aliasID), "UpdatePolicy", "CodeDeployLambdaAliasUpdate"))
}

func TestValidateDefaults(t *testing.T) {
	// GIVEN only a code directory WHEN validated THEN there is no problem
	p := &alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t)}
	assert.NoError(t, p.Validate())
	// AND the effective defaults are the documented ones
	d := p.WithDefaults()
	assert.EqualValues(t, 256, *d.MemorySize)
	assert.EqualValues(t, 10, *d.Timeout.ToSeconds(nil))
	assert.Equal(t, awslogs.RetentionDays_ONE_MONTH, d.LogRetention)
	assert.Equal(t, awscdk.RemovalPolicy_DESTROY, d.RemovalPolicy)
	assert.EqualValues(t, 1, *d.ErrorThreshold)
	assert.EqualValues(t, 5, *d.ErrorRatePercent)
	assert.EqualValues(t, 80, *d.DurationAlarmPercent)
	assert.Nil(t, p.MemorySize, "WithDefaults does not modify the receiver")
}

func TestValidateReportsEachProblem(t *testing.T) {
	notExec := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(notExec, "bootstrap"), []byte("x"), 0o644))
	cases := map[string]struct {
		props alarmedfunction.AlarmedFunctionProps
		want  string
	}{
		"missing CodeDir":       {alarmedfunction.AlarmedFunctionProps{}, "CodeDir is required"},
		"no bootstrap":          {alarmedfunction.AlarmedFunctionProps{CodeDir: jsii.String(t.TempDir())}, "CodeDir"},
		"bootstrap not exec":    {alarmedfunction.AlarmedFunctionProps{CodeDir: jsii.String(notExec)}, "not executable"},
		"memory 64":             {alarmedfunction.AlarmedFunctionProps{MemorySize: jsii.Number(64)}, "MemorySize 64"},
		"memory 20000":          {alarmedfunction.AlarmedFunctionProps{MemorySize: jsii.Number(20000)}, "MemorySize 20000"},
		"timeout 901 s":         {alarmedfunction.AlarmedFunctionProps{Timeout: awscdk.Duration_Seconds(jsii.Number(901))}, "Timeout 901 s"},
		"timeout 500 ms":        {alarmedfunction.AlarmedFunctionProps{Timeout: awscdk.Duration_Millis(jsii.Number(500))}, "Timeout 0.5 s"},
		"negative reserved":     {alarmedfunction.AlarmedFunctionProps{ReservedConcurrency: jsii.Number(-1)}, "ReservedConcurrency -1"},
		"snapshot removal":      {alarmedfunction.AlarmedFunctionProps{RemovalPolicy: awscdk.RemovalPolicy_SNAPSHOT}, "RemovalPolicy"},
		"zero error threshold":  {alarmedfunction.AlarmedFunctionProps{ErrorThreshold: jsii.Number(0)}, "ErrorThreshold 0"},
		"error rate 150":        {alarmedfunction.AlarmedFunctionProps{ErrorRatePercent: jsii.Number(150)}, "ErrorRatePercent 150"},
		"duration percent 0":    {alarmedfunction.AlarmedFunctionProps{DurationAlarmPercent: jsii.Number(0)}, "DurationAlarmPercent 0"},
		"bad function name":     {alarmedfunction.AlarmedFunctionProps{FunctionName: jsii.String("no spaces")}, "FunctionName"},
		"function name too big": {alarmedfunction.AlarmedFunctionProps{FunctionName: jsii.String(strings.Repeat("a", 65))}, "FunctionName"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN props with one problem (and a valid CodeDir unless the case is about it)
			p := tc.props
			if p.CodeDir == nil && name != "missing CodeDir" {
				p.CodeDir = tu.CodeDir(t)
			}
			// WHEN validated THEN the error names the prop
			err := p.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewPanicsWithEveryProblemBeforeCreatingResources(t *testing.T) {
	// GIVEN props with several problems
	stack := tu.NewStack(app, t.Name())
	props := &alarmedfunction.AlarmedFunctionProps{
		MemorySize:       jsii.Number(64),
		Timeout:          awscdk.Duration_Minutes(jsii.Number(20)),
		ErrorRatePercent: jsii.Number(-1),
	}
	// WHEN the construct is created
	msg := tu.MustPanic(t, func() { alarmedfunction.NewAlarmedFunction(stack, "Fn", props) })

	// THEN one message reports them all
	for _, want := range []string{`alarmedfunction "Fn"`, "CodeDir is required", "MemorySize 64", "Timeout 1200 s", "ErrorRatePercent -1"} {
		assert.Contains(t, msg, want)
	}
	// AND nothing was added to the stack
	assert.Nil(t, stack.Node().TryFindChild(jsii.String("Fn")))
}

func TestValidateNilProps(t *testing.T) {
	var p *alarmedfunction.AlarmedFunctionProps
	assert.ErrorContains(t, p.Validate(), "required")
}

// TestCodeAndRoleOfYourOwn: code from an S3 object (nothing on this machine) and an
// existing execution role are used as given; the construct creates no role.
func TestCodeAndRoleOfYourOwn(t *testing.T) {
	// GIVEN code in a bucket and a role the team already has
	stack := tu.NewStack(app, t.Name())
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("Artifacts"), jsii.String("team-artifacts"))
	role := awsiam.Role_FromRoleArn(stack, jsii.String("Exec"), jsii.String("arn:aws:iam::111111111111:role/team-lambda"), nil)
	props := &alarmedfunction.AlarmedFunctionProps{
		Code: awslambda.Code_FromBucketV2(bucket, jsii.String("receiver.zip"), nil),
		Role: role,
	}
	require.NoError(t, props.Validate(), "no directory to check")
	// WHEN the function is built
	fn := alarmedfunction.NewAlarmedFunction(stack, "Fn", props)
	tpl := tu.Synth(t, stack)
	// THEN it runs that code with that role, and no role is created
	_, f := tpl.One(t, "AWS::Lambda::Function")
	assert.Equal(t, "team-artifacts", tu.Get(f, "Code", "S3Bucket"))
	assert.Equal(t, "receiver.zip", tu.Get(f, "Code", "S3Key"))
	assert.Equal(t, "arn:aws:iam::111111111111:role/team-lambda", f["Role"])
	assert.Equal(t, 0, tpl.Count("AWS::IAM::Role"))
	assert.Equal(t, "bootstrap", f["Handler"])
	assert.NotNil(t, fn.Alias)
}

func TestInAVpcOfYourOwn(t *testing.T) {
	// GIVEN a VPC the team has, with a security group of its own
	stack := tu.NewStack(app, t.Name())
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("isolated"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		}})
	sg := awsec2.NewSecurityGroup(stack, jsii.String("Db"), &awsec2.SecurityGroupProps{Vpc: vpc})
	props := &alarmedfunction.AlarmedFunctionProps{
		CodeDir:        tu.CodeDir(t),
		Vpc:            vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		SecurityGroups: []awsec2.ISecurityGroup{sg},
	}
	require.NoError(t, props.Validate())
	// WHEN the function is built
	alarmedfunction.NewAlarmedFunction(stack, "Fn", props)
	tpl := tu.Synth(t, stack)
	// THEN its interfaces are in the isolated subnets with the team's group, and the role
	// CDK creates may manage them
	_, f := tpl.One(t, "AWS::Lambda::Function")
	subnets, ok := tu.Get(f, "VpcConfig", "SubnetIds").([]any)
	require.True(t, ok, "VpcConfig.SubnetIds")
	assert.Len(t, subnets, 2, "one isolated subnet per AZ")
	groups, ok := tu.Get(f, "VpcConfig", "SecurityGroupIds").([]any)
	require.True(t, ok)
	require.Len(t, groups, 1)
	assert.Contains(t, fmt.Sprint(groups[0]), "Db", "the team's security group")
	_, role := tpl.One(t, "AWS::IAM::Role")
	assert.Contains(t, fmt.Sprint(tu.Get(role, "ManagedPolicyArns")), "AWSLambdaVPCAccessExecutionRole")
}

func TestTracingModes(t *testing.T) {
	for mode, xray := range map[awslambda.Tracing]bool{
		awslambda.Tracing_PASS_THROUGH: true, awslambda.Tracing_DISABLED: false,
	} {
		t.Run(string(mode), func(t *testing.T) {
			stack := tu.NewStack(app, t.Name())
			alarmedfunction.NewAlarmedFunction(stack, "Fn", &alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t), Tracing: mode})
			tpl := tu.Synth(t, stack)
			_, f := tpl.One(t, "AWS::Lambda::Function")
			if mode == awslambda.Tracing_DISABLED {
				assert.Nil(t, f["TracingConfig"], "no tracing config")
			} else {
				assert.Equal(t, "PassThrough", tu.Get(f, "TracingConfig", "Mode"))
			}
			assert.Equal(t, xray, strings.Contains(fmt.Sprint(tpl.Resources("AWS::IAM::Policy")), "xray:PutTraceSegments"), "X-Ray grants only when tracing")
		})
	}
	p := &alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t), Tracing: "SOMETIMES"}
	assert.ErrorContains(t, p.Validate(), `Tracing "SOMETIMES" must be ACTIVE, PASS_THROUGH or DISABLED`)
}

func TestVpcPartsWithoutAVpcAreRefused(t *testing.T) {
	stack := tu.NewStack(app, t.Name())
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(1), NatGateways: jsii.Number(0)})
	sg := awsec2.NewSecurityGroup(stack, jsii.String("Sg"), &awsec2.SecurityGroupProps{Vpc: vpc})
	p := &alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t), SecurityGroups: []awsec2.ISecurityGroup{sg}}
	assert.ErrorContains(t, p.Validate(), "VpcSubnets and SecurityGroups need Vpc")
	p = &alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t), Vpc: vpc,
		SecurityGroups: []awsec2.ISecurityGroup{sg, sg, sg, sg, sg, sg}}
	assert.ErrorContains(t, p.Validate(), "SecurityGroups: 6 given, Lambda allows at most 5")
}

func TestCodeAndCodeDirTogetherAreRefused(t *testing.T) {
	stack := tu.NewStack(app, t.Name())
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("Artifacts"), jsii.String("team-artifacts"))
	p := &alarmedfunction.AlarmedFunctionProps{CodeDir: tu.CodeDir(t), Code: awslambda.Code_FromBucketV2(bucket, jsii.String("x.zip"), nil)}
	assert.ErrorContains(t, p.Validate(), "CodeDir and Code: give one")
	assert.ErrorContains(t, (&alarmedfunction.AlarmedFunctionProps{}).Validate(), "CodeDir is required (or Code)")
}
