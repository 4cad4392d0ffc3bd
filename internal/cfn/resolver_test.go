package cfn_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func resolverFixture(t *testing.T) *cfn.Resolver {
	t.Helper()
	tmpl, err := cfn.Parse("test", []byte(`{
	  "Parameters": {
	    "Env": {"Type": "String", "Default": "local"},
	    "NoDefault": {"Type": "String"},
	    "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}
	  },
	  "Mappings": {"Sizes": {"local": {"Memory": 128}}},
	  "Conditions": {
	    "IsLocal": {"Fn::Equals": [{"Ref": "Env"}, "local"]},
	    "IsProd": {"Fn::Not": [{"Condition": "IsLocal"}]},
	    "Both": {"Fn::And": [{"Condition": "IsLocal"}, {"Fn::Or": [{"Condition": "IsProd"}, true]}]}
	  },
	  "Resources": {
	    "Table": {"Type": "AWS::DynamoDB::Table"},
	    "Queue": {"Type": "AWS::SQS::Queue"},
	    "Key": {"Type": "AWS::KMS::Key"},
	    "Later": {"Type": "AWS::SNS::Topic"},
	    "Skipped": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"}
	  }
	}`))
	require.NoError(t, err)
	tmpl.StackName = "payhook-local-Payments"
	r := cfn.NewResolver(tmpl, "eu-west-1")
	r.Emulated = func(typ string) bool { return typ != "AWS::KMS::Key" }
	r.SetRef("Table", "payhook-local-Payments-Table")
	r.SetAttr("Table", "Arn", "arn:aws:dynamodb:eu-west-1:000000000000:table/payhook-local-Payments-Table")
	r.SetRef("Queue", "http://127.0.0.1:1/000000000000/q1")
	r.SetAttr("Queue", "Arn", "arn:aws:sqs:eu-west-1:000000000000:q1")
	r.SetAttr("Queue", "QueueName", "q1")
	return r
}

func TestResolveIntrinsics(t *testing.T) {
	r := resolverFixture(t)
	cases := []struct {
		name string
		in   string
		want any
	}{
		{"literal", `"x"`, "x"},
		{"number", `30`, 30.0},
		{"ref resource", `{"Ref": "Table"}`, "payhook-local-Payments-Table"},
		{"ref parameter default", `{"Ref": "Env"}`, "local"},
		{"region", `{"Ref": "AWS::Region"}`, "eu-west-1"},
		{"account", `{"Ref": "AWS::AccountId"}`, "000000000000"},
		{"partition", `{"Ref": "AWS::Partition"}`, "aws"},
		{"url suffix", `{"Ref": "AWS::URLSuffix"}`, "amazonaws.com"},
		{"stack name", `{"Ref": "AWS::StackName"}`, "payhook-local-Payments"},
		{"getatt list", `{"Fn::GetAtt": ["Queue", "Arn"]}`, "arn:aws:sqs:eu-west-1:000000000000:q1"},
		{"getatt dotted", `{"Fn::GetAtt": "Queue.QueueName"}`, "q1"},
		{"join", `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"}, ":lambda:path"]]}`,
			"arn:aws:apigateway:eu-west-1:lambda:path"},
		{"join numbers", `{"Fn::Join": ["-", ["a", 5, true]]}`, "a-5-true"},
		{"select split", `{"Fn::Select": [5, {"Fn::Split": [":", {"Fn::GetAtt": ["Queue", "Arn"]}]}]}`, "q1"},
		{"select string index", `{"Fn::Select": ["1", ["a", "b"]]}`, "b"},
		{"split", `{"Fn::Split": ["/", "a/b"]}`, []any{"a", "b"}},
		{"sub", `{"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName} ${!Literal}"}`,
			"arn:aws:sqs:eu-west-1:000000000000:q1 ${Literal}"},
		{"sub vars", `{"Fn::Sub": ["${Name}-${Table}", {"Name": {"Ref": "Env"}}]}`, "local-payhook-local-Payments-Table"},
		{"if", `{"Fn::If": ["IsLocal", "yes", "no"]}`, "yes"},
		{"if nested condition", `{"Fn::If": ["Both", {"Ref": "Env"}, "no"]}`, "local"},
		{"if novalue dropped from map", `{"A": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "B": 1}`, map[string]any{"B": 1.0}},
		{"novalue dropped from list", `["a", {"Ref": "AWS::NoValue"}]`, []any{"a"}},
		{"find in map", `{"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}`, 128.0},
		{"base64", `{"Fn::Base64": "hi"}`, "aGk="},
		{"azs", `{"Fn::Select": [0, {"Fn::GetAZs": ""}]}`, "eu-west-1a"},
		{"nested map", `{"Variables": {"T": {"Ref": "Table"}}}`, map[string]any{"Variables": map[string]any{"T": "payhook-local-Payments-Table"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var in any
			require.NoError(t, jsonUnmarshal(c.in, &in))
			got, err := r.Resolve(in)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestResolveErrors(t *testing.T) {
	r := resolverFixture(t)
	cases := []struct {
		name, in, want string
	}{
		{"unknown", `{"Ref": "Nope"}`, "no such resource or parameter"},
		{"not emulated", `{"Fn::GetAtt": ["Key", "Arn"]}`, "AWS::KMS::Key is not emulated locally"},
		{"not created yet", `{"Ref": "Later"}`, "not created yet"},
		{"condition false", `{"Ref": "Skipped"}`, "condition IsProd is false"},
		{"unknown attribute", `{"Fn::GetAtt": ["Queue", "Nope"]}`, "attribute not available"},
		{"no default", `{"Ref": "NoDefault"}`, "no default"},
		{"ssm parameter", `{"Ref": "BootstrapVersion"}`, "SSM-backed"},
		{"import", `{"Fn::ImportValue": "x"}`, "Fn::ImportValue is not supported"},
		{"select range", `{"Fn::Select": [3, ["a"]]}`, "out of range"},
		{"join non-list", `{"Fn::Join": ["", "x"]}`, "expected a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var in any
			require.NoError(t, jsonUnmarshal(c.in, &in))
			_, err := r.Resolve(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := r.Resolve(map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}})
	assert.True(t, errors.Is(err, cfn.ErrNotEmulated))
}

func TestPropertyErrorNamesResourceAndProperty(t *testing.T) {
	r := resolverFixture(t)
	res := &cfn.Resource{LogicalID: "Fn", Type: "AWS::Lambda::Function", Properties: map[string]any{
		"Environment": map[string]any{"Variables": map[string]any{"KEY_ARN": map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}}}},
	}}
	_, err := r.StringProperty(res, "Environment.Variables.KEY_ARN")
	require.Error(t, err)
	var pe *cfn.PropertyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "Fn", pe.LogicalID)
	assert.Equal(t, "Environment.Variables.KEY_ARN", pe.Property)
	assert.Contains(t, err.Error(), "resource Fn (AWS::Lambda::Function), property Environment.Variables.KEY_ARN")
}

func TestConditions(t *testing.T) {
	r := resolverFixture(t)
	for name, want := range map[string]bool{"IsLocal": true, "IsProd": false, "Both": true} {
		got, err := r.Condition(name)
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
	_, err := r.Condition("Missing")
	assert.Error(t, err)
}

func TestReferences(t *testing.T) {
	var v any
	require.NoError(t, jsonUnmarshal(`{
	  "A": {"Ref": "Table"}, "B": {"Fn::GetAtt": ["Queue", "Arn"]}, "C": {"Ref": "AWS::Region"},
	  "D": {"Fn::Sub": ["${Topic.TopicName}-${X}-${AWS::Region}-${!Lit}", {"X": {"Ref": "Key"}}]},
	  "E": [{"Fn::GetAtt": "Secret.Id"}]
	}`, &v))
	assert.Equal(t, []string{"Key", "Queue", "Secret", "Table", "Topic"}, cfn.References(v))
}
