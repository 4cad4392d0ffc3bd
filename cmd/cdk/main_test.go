package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGateRemovesBrokenTemplates: a template that breaks CloudFormation's rules is removed
// from the assembly (so nothing can deploy it) and the app fails naming the resources; a
// passing one stays.
func TestGateRemovesBrokenTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("manifest.json", `{"artifacts":{
		"Good":{"type":"aws:cloudformation:stack","environment":"aws://111111111111/us-east-1","properties":{"templateFile":"Good.template.json"}},
		"Bad":{"type":"aws:cloudformation:stack","environment":"aws://111111111111/us-east-1","properties":{"templateFile":"Bad.template.json"}},
		"Garbled":{"type":"aws:cloudformation:stack","environment":"aws://111111111111/us-east-1","properties":{"templateFile":"Garbled.template.json"}}}}`)
	write("Good.template.json", `{"Resources":{"Queue":{"Type":"AWS::SQS::Queue"}}}`)
	write("Garbled.template.json", `{"Resources":`)
	write("Bad.template.json", `{"Resources":{"Alias":{"Type":"AWS::Lambda::Alias","UpdatePolicy":{"CodeDeployLambdaAliasUpdate":{"DeploymentGroupName":{"Ref":"Group"}}}},
		"Group":{"Type":"AWS::CodeDeploy::DeploymentGroup","Properties":{"AlarmConfiguration":{"Alarms":[{"Name":{"Ref":"Alarm"}}]}}},
		"Alarm":{"Type":"AWS::CloudWatch::Alarm","Properties":{"Dimensions":[{"Name":"Resource","Value":{"Ref":"Alias"}}]}}}}`)

	err := gate(dir)
	require.Error(t, err)
	for _, want := range []string{"Bad", "dependency-cycle", "Alias", "Group", "Alarm", "UpdatePolicy"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoFileExists(t, filepath.Join(dir, "Bad.template.json"))
	assert.NoFileExists(t, filepath.Join(dir, "Garbled.template.json"), "an unreadable template does not stop the gate")
	assert.Contains(t, err.Error(), "Garbled")
	assert.FileExists(t, filepath.Join(dir, "Good.template.json"))
}

// TestGateRefusesACollidingName: two stacks in one account and region that claim one table
// name fail the synth, naming both; neither template is removed (neither alone is wrong).
func TestGateRefusesACollidingName(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("manifest.json", `{"artifacts":{
		"A":{"type":"aws:cloudformation:stack","environment":"aws://111111111111/us-east-1","properties":{"templateFile":"A.template.json"}},
		"B":{"type":"aws:cloudformation:stack","environment":"aws://111111111111/us-east-1","properties":{"templateFile":"B.template.json"}}}}`)
	table := `{"Resources":{"Table":{"Type":"AWS::DynamoDB::Table","Properties":{"TableName":"payhook"}}}}`
	write("A.template.json", table)
	write("B.template.json", table)

	err := gate(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `AWS::DynamoDB::Table TableName "payhook" is claimed by stack A: Table in 111111111111/us-east-1 and by stack B: Table`)
	assert.FileExists(t, filepath.Join(dir, "A.template.json"))
	assert.FileExists(t, filepath.Join(dir, "B.template.json"))
}
