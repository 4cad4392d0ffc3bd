package tests

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/cfnrules"
	"github.com/payhook/payhook/internal/contract"
)

// explicitNames are the properties holding a resource's explicit physical name, by type:
// every one payhook's stacks set.
var explicitNames = map[string]string{
	"AWS::Lambda::Function":       "FunctionName",
	"AWS::SQS::Queue":             "QueueName",
	"AWS::SNS::Topic":             "TopicName",
	"AWS::DynamoDB::Table":        "TableName",
	"AWS::SecretsManager::Secret": "Name",
	"AWS::Logs::LogGroup":         "LogGroupName",
	"AWS::WAFv2::WebACL":          "Name",
	"AWS::WAFv2::IPSet":           "Name",
	"AWS::CloudWatch::Dashboard":  "DashboardName",
	"AWS::IAM::Role":              "RoleName",
	"AWS::ApiGateway::RestApi":    "Name",
	"AWS::ApiGateway::ApiKey":     "Name",
	"AWS::ApiGateway::UsagePlan":  "UsagePlanName",
}

// literalNames returns every literal explicit name of a template: "<type> <name>".
func literalNames(tmpl map[string]any) map[string]string {
	out := map[string]string{}
	for id, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		prop, ok := explicitNames[res["Type"].(string)]
		if !ok {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		if v, ok := props[prop].(string); ok {
			out[id] = res["Type"].(string) + " " + v
		}
	}
	return out
}

// TestEveryPreviewExists: the shared synthesis holds a copy of each env that allows one
// (dev twice, as two pull requests), and prod's is refused by its file.
func TestEveryPreviewExists(t *testing.T) {
	var want []string
	for env, suffixes := range testPreviews {
		for _, s := range suffixes {
			want = append(want, env+"-"+s)
		}
	}
	var got []string
	for name := range synthesized.previews {
		got = append(got, name)
	}
	slices.Sort(want)
	slices.Sort(got)
	assert.Equal(t, want, got)
	for _, e := range synthesized.envs {
		_, err := e.Preview("pr-1")
		assert.Equal(t, e.PreviewAllowed(), err == nil, "%s: %v", e.Name, err)
		if e.RetainData {
			assert.ErrorContains(t, err, "allows no preview copies", e.Name)
		}
	}
}

// TestPreviewNamesCarryTheSuffix: every explicit physical name of a preview, its stack's
// name and its tags carry the suffix; its data, secrets, keys and logs go with the stack.
func TestPreviewNamesCarryTheSuffix(t *testing.T) {
	for name, tmpl := range synthesized.previews {
		t.Run(name, func(t *testing.T) {
			st := synthesized.built.Previews[name]
			base := st.Env.PreviewOf()
			suffix := strings.TrimPrefix(name, base+"-")
			require.NotEqual(t, name, suffix)
			names := literalNames(tmpl)
			require.NotEmpty(t, names)
			for id, n := range names {
				plain := strings.ReplaceAll(suffix, "-", "")
				assert.True(t, strings.Contains(n, suffix) || strings.Contains(n, plain), "%s: %s lacks %s", id, n, suffix)
			}
			assert.Equal(t, contract.StageName(name), *st.Payments.StackName())
			tags := tagsOf(t, tmpl, "DynamoDB table", "AWS::DynamoDB::Table")
			assert.Equal(t, name, tags[contract.EnvTag])
			assert.Equal(t, base, tags[contract.PreviewTag])
			for id, r := range tmpl["Resources"].(map[string]any) {
				res := r.(map[string]any)
				switch res["Type"] {
				case "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SQS::Queue":
					assert.Equal(t, "Delete", res["DeletionPolicy"], "%s %s stays after destroy", res["Type"], id)
				}
				if res["Type"] == "AWS::DynamoDB::Table" {
					assert.Equal(t, false, res["Properties"].(map[string]any)["DeletionProtectionEnabled"], id)
				}
			}
		})
	}
}

// tagsOf returns the tags of the one resource of type typ.
func tagsOf(t *testing.T, tmpl map[string]any, what, typ string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != typ {
			continue
		}
		tags, _ := res["Properties"].(map[string]any)["Tags"].([]any)
		for _, tag := range tags {
			kv := tag.(map[string]any)
			out[kv["Key"].(string)] = kv["Value"].(string)
		}
		return out
	}
	t.Fatalf("no %s in the template", what)
	return nil
}

// TestPhysicalNamesAreTheTemplates ties contract.PhysicalNames, whose limits the loader
// checks a preview's names against, to the names the stacks really claim: every literal
// name of a limited kind in every env's and preview's template is one of them.
func TestPhysicalNamesAreTheTemplates(t *testing.T) {
	limited := map[string]string{"AWS::Lambda::Function": "Lambda function name", "AWS::SQS::Queue": "SQS queue name",
		"AWS::SNS::Topic": "SNS topic name", "AWS::DynamoDB::Table": "DynamoDB table name",
		"AWS::SecretsManager::Secret": "Secrets Manager secret name", "AWS::CloudWatch::Dashboard": "CloudWatch dashboard name",
		"AWS::IAM::Role": "IAM role name"}
	all := map[string]map[string]any{}
	for name, tmpl := range synthesized.templates {
		all[name] = tmpl
	}
	for name, tmpl := range synthesized.previews {
		all[name] = tmpl
	}
	for env, tmpl := range all {
		known := map[string]bool{}
		for _, n := range contract.PhysicalNames(env) {
			known[n.What+" "+n.Name] = true
		}
		for id, n := range literalNames(tmpl) {
			typ, name, _ := strings.Cut(n, " ")
			if what, ok := limited[typ]; ok {
				assert.True(t, known[what+" "+name], "%s: %s %s is not in contract.PhysicalNames", env, id, n)
			}
		}
	}
}

// TestNoPhysicalNameCollides runs the collision gate over the shared assembly: every env,
// the pipeline, and the previews (dev twice and dev itself share one account).
func TestNoPhysicalNameCollides(t *testing.T) {
	stacks, err := cfn.Stacks(synthesized.outdir)
	require.NoError(t, err)
	accounts := map[string][]string{}
	for _, st := range stacks {
		accounts[st.Account+"/"+st.Region] = append(accounts[st.Account+"/"+st.Region], st.ID)
	}
	dev := synthesized.built.Stages["dev"].Payments
	require.GreaterOrEqual(t, len(accounts[*dev.Account()+"/"+*dev.Region()]), 3, "dev and its two previews share one account")
	require.NoError(t, cfnrules.CheckAssemblyNames(synthesized.outdir))
}

// TestAFixedNameCollides: reintroduce a fixed name (a preview's table named as dev's) in a
// copy of the assembly, and the gate fails naming both tables.
func TestAFixedNameCollides(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cdk.out")
	copyAssemblyJSON(t, synthesized.outdir, dir)
	st := synthesized.built.Previews["dev-pr-1"]
	rel, err := filepath.Rel(synthesized.outdir, filepath.Join(*st.Outdir(), *st.Payments.TemplateFile()))
	require.NoError(t, err)
	path := filepath.Join(dir, rel)
	tmpl, err := readTemplate(path)
	require.NoError(t, err)
	for _, r := range tmpl["Resources"].(map[string]any) {
		if res := r.(map[string]any); res["Type"] == "AWS::DynamoDB::Table" {
			res["Properties"].(map[string]any)["TableName"] = "payhook-dev"
		}
	}
	b, err := json.Marshal(tmpl)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))

	err = cfnrules.CheckAssemblyNames(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `AWS::DynamoDB::Table TableName "payhook-dev"`)
	assert.Contains(t, err.Error(), "stack payhook-dev: Table", "dev's table is named (its logical id)")
	assert.Contains(t, err.Error(), "stack payhook-dev-pr-1: Table", "the preview's table is named")
	assert.Equal(t, 1, strings.Count(err.Error(), "\n  - "), "one collision: %v", err)
}

// copyAssemblyJSON copies the JSON files of the cloud assembly in src (manifests and
// templates, nested assemblies included; no assets) to dst.
func copyAssemblyJSON(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "asset.") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
}
