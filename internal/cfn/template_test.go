package cfn_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
)

// fixture is a file of local mode's test data.
func fixture(name string) string {
	return filepath.Join("..", "localrun", "internal", "testenv", "testdata", name)
}

func TestParseTemplate(t *testing.T) {
	tmpl, err := cfn.ParseTemplate(fixture("payhook-local-Payments.template.json"))
	require.NoError(t, err)
	assert.Equal(t, "payhook-local-Payments", tmpl.StackName)
	fn := tmpl.Resources["IngressHandlerFunctionA0B1C2D3"]
	require.NotNil(t, fn)
	assert.Equal(t, "AWS::Lambda::Function", fn.Type)
	assert.Equal(t, []string{"IngressHandlerFunctionServiceRoleDefaultPolicy5E6F7A8B", "IngressHandlerFunctionServiceRole1A2B3C4D"}, fn.DependsOn)
	assert.Len(t, tmpl.LogicalIDs("AWS::Lambda::Function"), 4)

	// In a cloud assembly, the stack name and region come from manifest.json.
	tmpl, err = cfn.ParseTemplate(fixture("assembly/payhooklocalPayments38BE2FB3.template.json"))
	require.NoError(t, err)
	assert.Equal(t, "payhook-local", tmpl.StackName)
	assert.Equal(t, "eu-west-1", tmpl.Region)
	path, err := cfn.ResolveTemplatePath(fixture("assembly"))
	require.NoError(t, err)
	assert.Equal(t, fixture("assembly/payhooklocalPayments38BE2FB3.template.json"), path)
	_, err = cfn.ResolveTemplatePath(fixture(""))
	assert.Error(t, err, "no manifest.json")

	_, err = cfn.Parse("test", []byte(`{"Resources": {"A": {"Properties": {}}}}`))
	assert.ErrorContains(t, err, "no Type")
	tmpl, err = cfn.Parse("test", []byte(`{"Transform": "AWS::Serverless-2016-10-31", "Resources": {"A": {"Type": "X"}}}`))
	require.NoError(t, err, "the model reads a Transform; local mode refuses it")
	assert.Equal(t, "AWS::Serverless-2016-10-31", tmpl.Transform)
	_, err = cfn.Parse("test", []byte(`{"Resources": {}}`))
	assert.ErrorContains(t, err, "no Resources")
}

func TestCodeAsset(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("App.template.json", `{"Resources": {
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Bucket": "b", "S3Key": "abc.zip"}}},
	  "Inline": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}}},
	  "Other": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Bucket": "b", "S3Key": "zzz.zip"}}}
	}}`)
	write("App.assets.json", `{"files": {"abc": {"source": {"path": "asset.abc", "packaging": "zip"},
	  "destinations": {"d": {"bucketName": "b", "objectKey": "abc.zip"}}}}}`)
	tmpl, err := cfn.ParseTemplate(filepath.Join(dir, "App.template.json"))
	require.NoError(t, err)
	got, err := tmpl.CodeAsset("Fn")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "asset.abc"), got)
	_, err = tmpl.CodeAsset("Inline")
	assert.ErrorContains(t, err, "not a literal asset key")
	_, err = tmpl.CodeAsset("Other")
	assert.ErrorContains(t, err, "zzz.zip is not in")
}
