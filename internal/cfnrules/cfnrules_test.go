package cfnrules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parse builds a template from a Resources section (JSON) for the rule tests.
func parse(t *testing.T, resources string) *cfn.Template {
	t.Helper()
	tmpl, err := cfn.Parse("test", []byte(`{"Parameters":{"P":{"Type":"String"}},"Resources":`+resources+`}`))
	require.NoError(t, err)
	tmpl.Account, tmpl.Region = "111111111111", "eu-west-1"
	return tmpl
}

// rules returns the findings of one rule.
func rules(r Report, rule string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f.Message)
		}
	}
	return out
}

// TestTodaysProdCycle feeds the gate the prod template as it was synthesized before the fix
// (the API's 5xx alarm in the ingest deployment group, the alerts topic policy without
// CloudWatch): both defects must be reported, naming the resources.
func TestTodaysProdCycle(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "prod-before-fix.template.json"))
	require.NoError(t, err)
	tmpl, err := cfn.Parse("prod", body)
	require.NoError(t, err)
	tmpl.Account, tmpl.Region = "111111111111", "us-east-1"
	r := Check(tmpl)
	require.Error(t, r.Err())

	cycles := rules(r, RuleCycle)
	require.Len(t, cycles, 1, "one cycle")
	for _, want := range []string{
		"IngressHandlerAlias24A7F438", "(UpdatePolicy Ref)", "IngressHandlerDeploymentGroup352D3B2E",
		"(Properties.AlarmConfiguration Ref)", "IngressServer5xxAlarmABCEE409", "(Properties.Dimensions Ref)",
		"IngressApiDeploymentStagev1CC0D9EAB", "IngressApiwebhooksPOST6AD537CB", "(Properties.Integration Ref)",
	} {
		assert.Contains(t, cycles[0], want)
	}

	alarms := rules(r, RuleAlarm)
	require.Len(t, alarms, 1, "one topic, every alarm listed")
	assert.Contains(t, alarms[0], "24 alarm(s) cannot notify topic Alerts91F83244")
	assert.Contains(t, alarms[0], "AlertsPolicy425C338D")
	assert.Contains(t, alarms[0], "no statement allows it")
}

func TestCycles(t *testing.T) {
	for name, res := range map[string]string{
		"DependsOn": `{"A":{"Type":"X::A","DependsOn":"B"},"B":{"Type":"X::B","DependsOn":["A"]}}`,
		"Fn::Sub": `{"A":{"Type":"X::A","Properties":{"V":{"Fn::Sub":"${B.Arn}"}}},
			"B":{"Type":"X::B","Properties":{"V":{"Fn::GetAtt":["A","Arn"]}}}}`,
		"UpdatePolicy": `{"A":{"Type":"X::A","UpdatePolicy":{"P":{"Ref":"B"}}},"B":{"Type":"X::B","Properties":{"V":{"Ref":"C"}}},
			"C":{"Type":"X::C","Properties":{"V":{"Fn::Join":["",[{"Ref":"A"}]]}}}}`,
		"CreationPolicy": `{"A":{"Type":"X::A","CreationPolicy":{"P":{"Ref":"B"}}},"B":{"Type":"X::B","DependsOn":"A"}}`,
		"Metadata":       `{"A":{"Type":"X::A","Metadata":{"P":{"Fn::GetAtt":"B.Arn"}}},"B":{"Type":"X::B","DependsOn":"A"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			cycles := rules(Check(parse(t, res)), RuleCycle)
			require.Len(t, cycles, 1)
			assert.Contains(t, cycles[0], "Circular dependency")
		})
	}
	t.Run("a chain is not a cycle", func(t *testing.T) {
		r := Check(parse(t, `{"A":{"Type":"X::A","DependsOn":"B","Properties":{"V":{"Fn::Sub":["${x}",{"x":{"Ref":"C"}}]}}},
			"B":{"Type":"X::B","Properties":{"V":{"Ref":"C"}}},"C":{"Type":"X::C"}}`))
		assert.Empty(t, r.Findings)
	})
}

func TestReferences(t *testing.T) {
	r := Check(parse(t, `{
		"A":{"Type":"X::A","Properties":{
			"Ok":[{"Ref":"P"},{"Ref":"AWS::Region"},{"Fn::Sub":"${AWS::AccountId}-${P}-${!Literal}-${B.Arn}"},{"Fn::Sub":["${v}",{"v":"x"}]}],
			"MissingRef":{"Ref":"Nope"},"MissingAtt":{"Fn::GetAtt":["Gone","Arn"]},"MissingSub":{"Fn::Sub":"${Lost.Arn}"},
			"AttOfParam":{"Fn::GetAtt":["P","Arn"]}}},
		"B":{"Type":"X::B","DependsOn":"Absent"},
		"bad-id":{"Type":"X::C"}}`))
	refs := rules(r, RuleReference)
	require.Len(t, refs, 5, "%v", refs)
	joined := strings.Join(refs, "\n")
	for _, want := range []string{"Ref Nope", "Fn::GetAtt Gone", "Fn::Sub Lost", "Fn::GetAtt P", "DependsOn Absent"} {
		assert.Contains(t, joined, want)
	}
	ids := rules(r, RuleLogicalID)
	require.Len(t, ids, 1)
	assert.Contains(t, ids[0], `"bad-id"`)
}

func TestQuotas(t *testing.T) {
	res := map[string]any{}
	for i := 0; i < MaxResources+1; i++ {
		res["R"+strings.Repeat("x", i%3)+string(rune('A'+i%26))+itoa(i)] = map[string]any{"Type": "X::Y"}
	}
	b, err := json.Marshal(map[string]any{"Resources": res})
	require.NoError(t, err)
	tmpl, err := cfn.Parse("big", b)
	require.NoError(t, err)
	r := Check(tmpl)
	q := rules(r, RuleQuota)
	require.Len(t, q, 1)
	assert.Contains(t, q[0], "501 resources, over CloudFormation's quota of 500")
	assert.Contains(t, r.Quotas(), "501/500 resources")

	tmpl.Size = MaxTemplateBytes + 1
	assert.Len(t, rules(Check(tmpl), RuleQuota), 2)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// alarmTemplate is an alarm publishing to an encrypted topic, with the given topic policy
// statements and key policy statements (JSON lists; "" for no topic policy at all).
func alarmTemplate(t *testing.T, topicStatements, keyStatements string) *cfn.Template {
	t.Helper()
	topicPolicy := ""
	if topicStatements != "" {
		topicPolicy = `,"TopicPolicy":{"Type":"AWS::SNS::TopicPolicy","Properties":{"Topics":[{"Ref":"Topic"}],
			"PolicyDocument":{"Version":"2012-10-17","Statement":` + topicStatements + `}}}`
	}
	return parse(t, `{
		"Alarm":{"Type":"AWS::CloudWatch::Alarm","Properties":{"AlarmActions":[{"Ref":"Topic"}],"OKActions":[{"Ref":"Topic"}]}},
		"Key":{"Type":"AWS::KMS::Key","Properties":{"KeyPolicy":{"Version":"2012-10-17","Statement":`+keyStatements+`}}},
		"Topic":{"Type":"AWS::SNS::Topic","Properties":{"KmsMasterKeyId":{"Fn::GetAtt":["Key","Arn"]}}}`+topicPolicy+`}`)
}

const (
	tlsDeny = `{"Sid":"AllowPublishThroughSSLOnly","Effect":"Deny","Principal":"*","Action":"sns:Publish",
		"Resource":{"Ref":"Topic"},"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	cloudWatchAllow = `{"Sid":"AllowCloudWatchAlarmsToPublish","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},
		"Action":"sns:Publish","Resource":{"Ref":"Topic"},
		"Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"},
			"ArnLike":{"aws:SourceArn":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":cloudwatch:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":alarm:*"]]}}}}`
	keyAllow = `{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],
		"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}}`
	keyRoot = `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}`
)

func TestAlarmDelivery(t *testing.T) {
	for _, c := range []struct {
		name, topic, key string
		want             string // "" when the alarm can deliver
	}{
		{"TLS deny and CloudWatch allow", `[` + tlsDeny + `,` + cloudWatchAllow + `]`, `[` + keyRoot + `,` + keyAllow + `]`, ""},
		{"no topic policy: SNS's default policy", "", `[` + keyRoot + `,` + keyAllow + `]`, ""},
		{"only the TLS deny (today's defect)", `[` + tlsDeny + `]`, `[` + keyRoot + `,` + keyAllow + `]`, "no statement allows it"},
		{"allow for another account", `[` + strings.Replace(cloudWatchAllow, `"111111111111"`, `"222222222222"`, 1) + `]`,
			`[` + keyAllow + `]`, "no statement allows it"},
		{"allow for another alarm ARN", `[` + strings.Replace(cloudWatchAllow, `:alarm:*`, `:alarm:other`, 1) + `]`,
			`[` + keyAllow + `]`, "no statement allows it"},
		{"explicit deny wins", `[` + cloudWatchAllow + `,{"Sid":"NoCW","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"NotAction":"sns:Subscribe","Resource":"*"}]`,
			`[` + keyAllow + `]`, `statement "NoCW" denies it`},
		{"AnyPrincipal deny in the AWS form", `[` + cloudWatchAllow + `,{"Sid":"NoOne","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sns:Publish","Resource":"*"}]`,
			`[` + keyAllow + `]`, `statement "NoOne" denies it`},
		{"AnyPrincipal allow in the AWS form", `[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sns:Publish","Resource":{"Ref":"Topic"}}]`,
			`[` + keyAllow + `]`, ""},
		{"a resource that cannot be evaluated", `[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":{"Fn::If":["C",{"Ref":"Topic"},"x"]}}]`,
			`[` + keyAllow + `]`, "cannot be evaluated"},
		{"key policy without CloudWatch", `[` + cloudWatchAllow + `]`, `[` + keyRoot + `]`, "policy of key Key"},
		{"key policy allows only Decrypt", `[` + cloudWatchAllow + `]`, `[` + strings.Replace(keyAllow, `,"kms:GenerateDataKey*"`, ``, 1) + `]`, "kms:GenerateDataKey"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := rules(Check(alarmTemplate(t, c.topic, c.key)), RuleAlarm)
			if c.want == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Contains(t, got[0], "1 alarm(s) cannot notify topic Topic")
			assert.Contains(t, got[0], c.want)
		})
	}
	t.Run("two topic policies on one topic", func(t *testing.T) {
		tmpl := alarmTemplate(t, `[`+cloudWatchAllow+`]`, `[`+keyAllow+`]`)
		second := *tmpl.Resources["TopicPolicy"]
		tmpl.Resources["TopicPolicy2"] = &second
		got := rules(Check(tmpl), RuleAlarm)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "SNS keeps only one policy per topic")
	})
	t.Run("AWS managed key", func(t *testing.T) {
		tmpl := alarmTemplate(t, "", `[]`)
		tmpl.Resources["Topic"].Properties["KmsMasterKeyId"] = "alias/aws/sns"
		got := rules(Check(tmpl), RuleAlarm)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "alias/aws/sns")
	})
}

// lambdaTemplate is an API method, a rule and an SQS event source, all calling Alias, plus
// the extra resources given (permissions, policies).
func lambdaTemplate(t *testing.T, extra string) *cfn.Template {
	t.Helper()
	return parse(t, `{
		"Role":{"Type":"AWS::IAM::Role","Properties":{}},
		"Fn":{"Type":"AWS::Lambda::Function","Properties":{"Role":{"Fn::GetAtt":["Role","Arn"]}}},
		"Version":{"Type":"AWS::Lambda::Version","Properties":{"FunctionName":{"Ref":"Fn"}}},
		"Alias":{"Type":"AWS::Lambda::Alias","Properties":{"FunctionName":{"Ref":"Fn"},"FunctionVersion":{"Fn::GetAtt":["Version","Version"]}}},
		"Api":{"Type":"AWS::ApiGateway::RestApi"},
		"Hooks":{"Type":"AWS::ApiGateway::Resource","Properties":{"ParentId":{"Fn::GetAtt":["Api","RootResourceId"]},"PathPart":"hooks","RestApiId":{"Ref":"Api"}}},
		"Post":{"Type":"AWS::ApiGateway::Method","Properties":{"HttpMethod":"POST","ResourceId":{"Ref":"Hooks"},"RestApiId":{"Ref":"Api"},
			"Integration":{"Type":"AWS_PROXY","Uri":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":apigateway:eu-west-1:lambda:path/2015-03-31/functions/",{"Ref":"Alias"},"/invocations"]]}}}},
		"Rule":{"Type":"AWS::Events::Rule","Properties":{"Targets":[{"Id":"T","Arn":{"Ref":"Alias"}}]}},
		"Queue":{"Type":"AWS::SQS::Queue"},
		"Esm":{"Type":"AWS::Lambda::EventSourceMapping","Properties":{"EventSourceArn":{"Fn::GetAtt":["Queue","Arn"]},
			"FunctionName":{"Fn::Join":["",[{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"Alias"}]}]},":live"]]}}}
		`+extra+`}`)
}

const (
	apiPermission = `,"ApiPerm":{"Type":"AWS::Lambda::Permission","Properties":{"Action":"lambda:InvokeFunction","FunctionName":{"Ref":"Alias"},
		"Principal":"apigateway.amazonaws.com","SourceArn":{"Fn::Join":["",["arn:aws:execute-api:eu-west-1:111111111111:",{"Ref":"Api"},"/*/POST/hooks"]]}}}`
	rulePermission = `,"RulePerm":{"Type":"AWS::Lambda::Permission","Properties":{"Action":"lambda:InvokeFunction","FunctionName":{"Ref":"Alias"},
		"Principal":"events.amazonaws.com","SourceArn":{"Fn::GetAtt":["Rule","Arn"]}}}`
	pollPolicy = `,"Policy":{"Type":"AWS::IAM::Policy","Properties":{"Roles":[{"Ref":"Role"}],"PolicyDocument":{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:ChangeMessageVisibility","sqs:GetQueueUrl","sqs:DeleteMessage","sqs:GetQueueAttributes"],
		 "Resource":{"Fn::GetAtt":["Queue","Arn"]}}]}}}`
)

func TestInvokePermissions(t *testing.T) {
	t.Run("all granted", func(t *testing.T) {
		assert.Empty(t, Check(lambdaTemplate(t, apiPermission+rulePermission+pollPolicy)).Findings)
	})
	t.Run("all missing", func(t *testing.T) {
		got := rules(Check(lambdaTemplate(t, "")), RuleInvoke)
		require.Len(t, got, 3)
		joined := strings.Join(got, "\n")
		assert.Contains(t, joined, "method Post (POST/hooks) integrates Alias")
		assert.Contains(t, joined, "rule Rule targets Alias")
		assert.Contains(t, joined, "role Role of Fn may not sqs:ReceiveMessage on queue Queue")
	})
	t.Run("permission on the function, integration on the alias", func(t *testing.T) {
		perm := strings.Replace(apiPermission, `"FunctionName":{"Ref":"Alias"}`, `"FunctionName":{"Fn::GetAtt":["Fn","Arn"]}`, 1)
		got := rules(Check(lambdaTemplate(t, perm+rulePermission+pollPolicy)), RuleInvoke)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "apigateway.amazonaws.com")
	})
	t.Run("permission for another route", func(t *testing.T) {
		perm := strings.Replace(apiPermission, "/*/POST/hooks", "/*/GET/hooks", 1)
		assert.Len(t, rules(Check(lambdaTemplate(t, perm+rulePermission+pollPolicy)), RuleInvoke), 1)
	})
	t.Run("role may not delete", func(t *testing.T) {
		policy := strings.Replace(pollPolicy, `"sqs:DeleteMessage",`, ``, 1)
		got := rules(Check(lambdaTemplate(t, apiPermission+rulePermission+policy)), RuleInvoke)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "may not sqs:DeleteMessage")
	})
	t.Run("queue policy denies the role", func(t *testing.T) {
		deny := `,"QP":{"Type":"AWS::SQS::QueuePolicy","Properties":{"Queues":[{"Ref":"Queue"}],"PolicyDocument":{"Statement":[
			{"Sid":"Lock","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sqs:*","Resource":{"Fn::GetAtt":["Queue","Arn"]},
			 "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}}}]}}}`
		got := rules(Check(lambdaTemplate(t, apiPermission+rulePermission+pollPolicy+deny)), RuleInvoke)
		require.Len(t, got, 1)
		assert.Contains(t, got[0], `statement "Lock" denies it`)
	})
	t.Run("AWS managed SQS execution policy", func(t *testing.T) {
		tmpl := lambdaTemplate(t, apiPermission+rulePermission)
		tmpl.Resources["Role"].Properties["ManagedPolicyArns"] = []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"}
		assert.Empty(t, Check(tmpl).Findings)
	})
}

func TestCheckAssembly(t *testing.T) {
	dir := t.TempDir()
	nested := filepath.Join(dir, "assembly-Stage")
	require.NoError(t, os.MkdirAll(nested, 0o755))
	write := func(path, body string) { require.NoError(t, os.WriteFile(path, []byte(body), 0o644)) }
	write(filepath.Join(dir, "manifest.json"), `{"artifacts":{
		"Top":{"type":"aws:cloudformation:stack","environment":"aws://unknown-account/unknown-region","properties":{"templateFile":"Top.template.json"}},
		"assembly-Stage":{"type":"cdk:cloud-assembly","properties":{"directoryName":"assembly-Stage"}}}}`)
	write(filepath.Join(dir, "Top.template.json"), `{"Resources":{"A":{"Type":"X::A"}}}`)
	write(filepath.Join(nested, "manifest.json"), `{"artifacts":{
		"StageStack":{"type":"aws:cloudformation:stack","environment":"aws://111111111111/eu-west-1","properties":{"templateFile":"StageStack.template.json"}}}}`)
	write(filepath.Join(nested, "StageStack.template.json"), `{"Resources":{"A":{"Type":"X::A","DependsOn":"B"},"B":{"Type":"X::B","DependsOn":"A"}}}`)

	reports, err := CheckAssembly(dir)
	require.Len(t, reports, 2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "StageStack")
	assert.Contains(t, err.Error(), RuleCycle)
	assert.NotContains(t, err.Error(), "template Top ")
	assert.Empty(t, reports[0].Findings, "Top passes")
	assert.Equal(t, filepath.Join(dir, "Top.template.json"), reports[0].File)

	list, err := cfn.Stacks(dir)
	require.NoError(t, err)
	assert.Equal(t, "", list[0].Account, "unknown-account is no account")
	assert.Equal(t, "111111111111", list[1].Account)
	assert.Equal(t, "eu-west-1", list[1].Region)
}
