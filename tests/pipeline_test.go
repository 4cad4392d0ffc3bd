package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/iam"
	"github.com/payhook/payhook/pipeline"
)

type action struct {
	Name          string
	Category      string
	RunOrder      float64
	Configuration map[string]any
}

type pipelineView struct {
	Type      string
	Stages    []string
	Actions   map[string][]action // by pipeline stage name
	Resources map[string]resource
	Counts    map[string]int
}

func readPipeline(t *testing.T, outdir string, d *pipeline.Stack) pipelineView {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(outdir, *d.TemplateFile()))
	require.NoError(t, err)
	var tmpl struct{ Resources map[string]map[string]any }
	require.NoError(t, json.Unmarshal(b, &tmpl))
	v := pipelineView{Actions: map[string][]action{}, Resources: map[string]resource{}, Counts: map[string]int{}}
	for id, r := range tmpl.Resources {
		props, _ := r["Properties"].(map[string]any)
		v.Resources[id] = resource{ID: id, Type: r["Type"].(string), Props: props}
		v.Counts[r["Type"].(string)]++
		if r["Type"] != "AWS::CodePipeline::Pipeline" {
			continue
		}
		v.Type, _ = props["PipelineType"].(string)
		for _, s := range props["Stages"].([]any) {
			st := s.(map[string]any)
			name := st["Name"].(string)
			v.Stages = append(v.Stages, name)
			for _, a := range st["Actions"].([]any) {
				am := a.(map[string]any)
				cfg, _ := am["Configuration"].(map[string]any)
				v.Actions[name] = append(v.Actions[name], action{Name: am["Name"].(string),
					Category: am["ActionTypeId"].(map[string]any)["Category"].(string), RunOrder: num(am["RunOrder"]), Configuration: cfg})
			}
		}
	}
	return v
}

func (v pipelineView) action(t *testing.T, stage, name string) action {
	t.Helper()
	for _, a := range v.Actions[stage] {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no action %s in pipeline stage %s (have %v)", name, stage, v.Actions[stage])
	return action{}
}

// buildspec returns the inline buildspec of the CodeBuild project an action runs.
func (v pipelineView) buildspec(t *testing.T, a action) string {
	t.Helper()
	ref := a.Configuration["ProjectName"].(map[string]any)["Ref"].(string)
	return fmt.Sprint(v.Resources[ref].Props["Source"].(map[string]any)["BuildSpec"])
}

// roleStatement returns the statement granting action in the inline policy of a CodeBuild
// project's service role.
func (v pipelineView) roleStatement(t *testing.T, project resource, action string) map[string]any {
	t.Helper()
	role := project.Props["ServiceRole"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	for _, r := range v.Resources {
		if r.Type != "AWS::IAM::Policy" || !strings.Contains(fmt.Sprint(r.Props["Roles"]), "Ref:"+role+"]") {
			continue
		}
		for _, st := range r.Props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if m := st.(map[string]any); fmt.Sprint(m["Action"]) == action {
				return m
			}
		}
	}
	t.Fatalf("no statement for %s in the policy of role %s", action, role)
	return nil
}

func TestPipelineShape(t *testing.T) {
	d := synthesized.built.Delivery
	require.NotNil(t, d)
	v := readPipeline(t, synthesized.outdir, d)
	assert.Equal(t, "V2", v.Type)

	// Source, synth, self-mutation, one assets stage (not one project per asset), then the
	// environments in promotion order: dev, staging, prod (local-only env: never a stage).
	assert.Equal(t, []string{"Source", "Build", "UpdatePipeline", "Assets", "payhook-dev", "payhook-staging", "payhook-prod"}, v.Stages)
	assert.Equal(t, "Build", v.action(t, "UpdatePipeline", "SelfMutate").Category)
	assert.Len(t, v.Actions["Assets"], 1, "assets are published by one project (publishAssetsInParallel false)")
	assert.Contains(t, v.buildspec(t, v.action(t, "Build", "Synth")), "go run mage.go pipeline:synth")
	assert.Contains(t, v.buildspec(t, v.action(t, "Build", "Synth")), "cdk.out")
	synthProject := v.Resources[v.action(t, "Build", "Synth").Configuration["ProjectName"].(map[string]any)["Ref"].(string)]
	assert.Contains(t, fmt.Sprint(synthProject.Props["Environment"]), contract.GoToolchain, "Go pinned for CodeBuild")
	synthSpec := v.buildspec(t, v.action(t, "Build", "Synth"))
	assert.Regexp(t, `(?s)go mod verify.*go run mage.go pipeline:synth`, synthSpec, "the cached modules are verified before they are used")
	assert.Regexp(t, `(?s)rm -rf [^,]*golang.org/toolchain@\*.*go mod verify`, synthSpec, "no cached toolchain runs before it is checked")
	assert.Contains(t, fmt.Sprint(synthProject.Props["Cache"]), "gomod", "only the module cache is kept")
	assert.NotContains(t, synthSpec, "/root/.cache/go-build/**", "the build cache cannot be verified: never kept")
	for id, r := range v.Resources {
		if r.Type != "AWS::CodeBuild::Project" {
			continue
		}
		// Every project's artifacts are encrypted with the pipeline's customer managed key.
		key := fmt.Sprint(r.Props["EncryptionKey"])
		assert.Contains(t, key, "Fn::GetAtt", "%s: a key of the stack, not alias/aws/s3", id)
		if c, ok := r.Props["Cache"].(map[string]any); ok && c["Type"] != "NO_CACHE" {
			assert.Equal(t, synthProject, r, "%s: only the synth step reads or writes the build cache (%v)", id, c)
		}
	}

	// Approvals exactly where configured, after the permissions check.
	for _, e := range synthesized.envs {
		if !e.Deployable() {
			continue
		}
		stage := "payhook-" + e.Name
		var approvals, checks []action
		for _, a := range v.Actions[stage] {
			if strings.HasPrefix(a.Name, "Approve-") {
				approvals = append(approvals, a)
			}
			if strings.HasPrefix(a.Name, "CheckPermissions-") && strings.HasSuffix(a.Name, ".Check") {
				checks = append(checks, a)
			}
		}
		if e.Approval == envs.ApprovalManual {
			require.Len(t, approvals, 1, stage)
			assert.Contains(t, approvals[0].Configuration["CustomData"], "#{Source@", "the approval names the commit")
			assert.Contains(t, approvals[0].Configuration["CustomData"], "CommitId")
			assert.Contains(t, approvals[0].Configuration["CustomData"], "#{Build@Synth."+pipeline.AssemblyDigestVariable+"}", "and the assembly")
			verify := v.action(t, stage, "VerifyAssembly-"+e.Name)
			assert.Greater(t, verify.RunOrder, approvals[0].RunOrder, "verified after the approval")
			assert.Less(t, verify.RunOrder, v.action(t, stage, stage+".Prepare").RunOrder, "and before the deploy")
			assert.Contains(t, fmt.Sprint(verify.Configuration["EnvironmentVariables"]), "#{Build@Synth."+pipeline.AssemblyDigestVariable+"}")
			assert.Contains(t, v.buildspec(t, verify), `if [ \"$actual\" != \"$APPROVED_SHA256\" ]`)
		} else {
			assert.Empty(t, approvals, stage)
		}
		if e.RetainData {
			require.Len(t, checks, 1, stage)
			if len(approvals) == 1 {
				assert.Less(t, checks[0].RunOrder, approvals[0].RunOrder, "check before approval")
			}
		} else {
			assert.Empty(t, checks, stage)
		}
		// The smoke test runs after the deployment, with the stage's outputs.
		smoke := v.action(t, stage, "Smoke-"+e.Name)
		deploy := v.action(t, stage, stage+".Deploy")
		assert.Greater(t, smoke.RunOrder, deploy.RunOrder)
		vars := fmt.Sprint(smoke.Configuration["EnvironmentVariables"])
		for _, k := range []string{"PAYHOOK_API_URL", "PAYHOOK_API_KEY_ID", "PAYHOOK_TABLE"} {
			assert.Contains(t, vars, k)
		}
		assert.Contains(t, vars, ".ApiUrl}", "from the stack's CfnOutput")
		assert.Contains(t, v.buildspec(t, smoke), "go run mage.go smoke")
		project := v.Resources[smoke.Configuration["ProjectName"].(map[string]any)["Ref"].(string)]
		assert.Contains(t, fmt.Sprint(project.Props["Environment"]), "Name:ENV Type:PLAINTEXT Value:"+e.Name)
		// It signs as the smoke provider only, from the env's own account, by assuming the
		// env's smoke role there (TestSmokeRoleInAnotherAccount checks what that may do).
		assert.Contains(t, fmt.Sprint(project.Props["Environment"]), "Name:PAYHOOK_PROVIDERS Type:PLAINTEXT Value:"+contract.SmokeProvidersSpec())
		assert.NotEqual(t, *synthesized.built.Delivery.Account(), e.Account, "%s runs in an account of its own", e.Name)
		assume := v.roleStatement(t, project, "sts:AssumeRole")
		assert.Equal(t, "arn:aws:iam::"+e.Account+":role/"+contract.SmokeRoleName(e.Name), assume["Resource"], stage)
		assert.Contains(t, v.buildspec(t, smoke), "credential_source = EcsContainer")
	}
}

// checkSmokeGrants checks a smoke role's statements (statement returns the one granting an
// action): API keys only where they carry the env's tag, the smoke secret only, and only the
// smoke provider's items (evaluated as AWS does, with the request's leading key).
func checkSmokeGrants(t *testing.T, where, env string, statement func(action string) map[string]any) {
	t.Helper()
	get := statement("apigateway:GET")
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + contract.EnvTag: env,
		"aws:ResourceTag/" + contract.ProviderTag: contract.SmokeProvider}}, get["Condition"], where, "the smoke key alone")
	assert.Contains(t, fmt.Sprint(statement("secretsmanager:GetSecretValue")["Resource"]), contract.SmokeSecretName(env)+"-*", where)
	read := statement("[dynamodb:GetItem dynamodb:Query]")
	ev := iam.Evaluator{} // plain strings: the condition's values are literal
	doc := map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": read["Action"], "Resource": "*", "Condition": read["Condition"]}}}
	for key, allowed := range map[string]bool{
		"TXN#" + contract.SmokeProvider + "#tx1": true, "TOTAL#" + contract.SmokeProvider + "#2026-11-30": true,
		"TXN#acme#tx1": false, "TOTAL#stripe#2026-11-30": false, "FAILURE#m1": false,
	} {
		d := ev.Evaluate([]any{doc}, iam.Request{Role: "smoke", Action: "dynamodb:GetItem", Resource: "table",
			Context: map[string]string{"dynamodb:leadingkeys": key}})
		assert.Equal(t, allowed, d.Allowed, "%s: GetItem on %s (%s)", where, key, d.Why)
	}
	// The secrets key, through Secrets Manager, for the smoke secret only.
	dec := statement("kms:Decrypt")
	decDoc := map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": dec["Action"], "Resource": "*", "Condition": dec["Condition"]}}}
	for secret, allowed := range map[string]bool{contract.SmokeSecretName(env): true, contract.SigningSecretName(env): false} {
		d := ev.Evaluate([]any{decDoc}, iam.Request{Role: "smoke", Action: "kms:Decrypt", Resource: "key", Context: map[string]string{
			"kms:viaservice":                  "secretsmanager.us-east-1.amazonaws.com",
			"kms:encryptioncontext:secretarn": "arn:aws:secretsmanager:us-east-1:" + envAccount(t, env) + ":secret:" + secret + "-AbCdEf"}})
		assert.Equal(t, allowed, d.Allowed, "%s: decrypt %s (%s)", where, secret, d.Why)
	}
	// A call that names no partition key (a Scan, were it granted) is refused: ForAllValues
	// alone holds for an empty set; the Null condition beside it requires the key.
	d := ev.Evaluate([]any{doc}, iam.Request{Role: "smoke", Action: "dynamodb:Query", Resource: "table"})
	assert.False(t, d.Allowed, "%s: a call without dynamodb:LeadingKeys", where)
}

// TestPipelineToolsArePinned: no step installs a tool at whatever version the registry
// serves that day, and the asset role starts only the asset projects.
func TestPipelineToolsArePinned(t *testing.T) {
	v := readPipeline(t, synthesized.outdir, synthesized.built.Delivery)
	for _, a := range []action{v.action(t, "UpdatePipeline", "SelfMutate"), v.action(t, "payhook-prod", "CheckPermissions-prod.Check")} {
		spec := v.buildspec(t, a)
		ref := a.Configuration["ProjectName"].(map[string]any)["Ref"].(string)
		assert.True(t, json.Valid([]byte(joinedBuildspec(v.Resources[ref].Props["Source"].(map[string]any)["BuildSpec"]))),
			"%s: the rewritten buildspec is still JSON", a.Name)
		assert.NotContains(t, spec, "npm install -g aws-cdk", a.Name)
		assert.Contains(t, spec, "npm ci --prefix cdk-cli", "%s installs the CLI from ci/cdk-cli's lockfile", a.Name)
	}
	// The asset steps' buildspecs are files of the assembly: cmd/cdk rewrites them after
	// synth, as here, to install cdk-assets from the lockfile it copies beside them.
	require.NoError(t, pipeline.LockCLIInstalls(synthesized.outdir, ".."))
	assets, err := filepath.Glob(filepath.Join(synthesized.outdir, "buildspec-*FileAsset*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, assets)
	for _, f := range assets {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Contains(t, string(b), "npm ci --prefix cdk-cli", f)
		assert.NotContains(t, string(b), "npm install -g", f)
	}
	lock, err := os.ReadFile(filepath.Join(synthesized.outdir, contract.PipelineCLIDir, "package-lock.json"))
	require.NoError(t, err)
	assert.Contains(t, string(lock), `"node_modules/cdk-assets"`)
	for id, r := range v.Resources {
		if r.Type != "AWS::IAM::Policy" {
			continue
		}
		for _, st := range r.Props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if strings.Contains(fmt.Sprint(st["Action"]), "codebuild:StartBuild") {
				assert.NotEqual(t, "*", st["Resource"], "%s: codebuild:StartBuild on every project", id)
			}
		}
	}
}

// TestCodeDeployPerStrategy: canary and linear envs shift the alias with CodeDeploy and
// roll back on the function's alarms; all-at-once has no deployment group.
func TestCodeDeployPerStrategy(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			rs := resources(t, e.Name)
			groups := ofType(rs, "AWS::CodeDeploy::DeploymentGroup")
			if e.Deployment.Strategy == envs.StrategyAllAtOnce {
				assert.Empty(t, groups)
				return
			}
			require.Len(t, groups, 4, "one per function")
			counts := []int{}
			for _, g := range groups {
				assert.Contains(t, fmt.Sprint(g.Props["DeploymentConfigName"]), "CodeDeployDefault."+e.Deployment.ConfigName())
				alarms := g.Props["AlarmConfiguration"].(map[string]any)
				assert.Equal(t, true, alarms["Enabled"])
				counts = append(counts, len(alarms["Alarms"].([]any)))
				assert.Contains(t, fmt.Sprint(g.Props["AutoRollbackConfiguration"]), "DEPLOYMENT_STOP_ON_ALARM")
			}
			// Four Lambda alarms each; ingest also rolls back on its 503s, 500s and the API's
			// 5xx, accounting on its batch item failures (failures Lambda does not count).
			assert.ElementsMatch(t, []int{4, 4, 5, 7}, counts)
			for _, a := range ofType(rs, "AWS::Lambda::Alias") {
				assert.Equal(t, "live", a.Props["Name"])
			}
		})
	}
	// Event sources and the API target the alias.
	rs := resources(t, "prod")
	for _, m := range ofType(rs, "AWS::Lambda::EventSourceMapping") {
		assert.Contains(t, fmt.Sprint(m.Props["FunctionName"]), "Alias")
	}
	for _, method := range ofType(rs, "AWS::ApiGateway::Method") {
		assert.Contains(t, fmt.Sprint(method.Props["Integration"]), "Alias")
	}
}

// buildPipelineIn synthesizes the whole app from dir inside its own Stage of the shared App.
func buildPipelineIn(t *testing.T, id, dir string) (*app.Built, pipelineView) {
	t.Helper()
	scope := awscdk.NewStage(synthesized.app, jsii.String(id), nil)
	built, err := app.Build(scope, app.AppConfig{EnvsDir: dir, AssetsDir: synthesized.assets, WithPipeline: true})
	require.NoError(t, err)
	asm := scope.Synth(nil)
	v := readPipeline(t, *asm.Directory(), built.Delivery)
	// Stage names carry the enclosing test Stage's id as a prefix.
	for i, s := range v.Stages {
		v.Stages[i] = strings.TrimPrefix(s, id+"-")
	}
	return built, v
}

func copyDir(t *testing.T, from string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(from, "*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

// TestAddingAnEnvFileAddsAStage: `new:env qa ORDER=4` writes envs/qa.yaml; with it the
// pipeline has a qa stage after prod, with no code change; without it the stage is gone. A
// copy of qa without ORDER joins qa's wave and deploys in parallel with it.
func TestAddingAnEnvFileAddsAStage(t *testing.T) {
	dir := copyDir(t, "../envs")
	path, err := envs.NewEnvFile(dir, "qa", "staging", 4)
	require.NoError(t, err)
	built, v := buildPipelineIn(t, "WithQA", dir)
	assert.Equal(t, []string{"payhook-dev", "payhook-staging", "payhook-prod", "payhook-qa"}, v.Stages[4:])
	assert.Contains(t, built.Stages, "qa")
	assert.Equal(t, [][]string{{"dev"}, {"staging"}, {"prod"}, {"qa"}}, built.Delivery.Waves)

	// Same order as qa → one wave, deployed in parallel.
	_, err = envs.NewEnvFile(dir, "qa2", "qa", 0)
	require.NoError(t, err)
	built, v = buildPipelineIn(t, "WithQAWave", dir)
	assert.Equal(t, [][]string{{"dev"}, {"staging"}, {"prod"}, {"qa", "qa2"}}, built.Delivery.Waves)
	assert.Equal(t, "order-4", v.Stages[len(v.Stages)-1], "a wave of two is one pipeline stage")

	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Remove(filepath.Join(dir, "qa2.yaml")))
	built, v = buildPipelineIn(t, "WithoutQA", dir)
	assert.NotContains(t, built.Stages, "qa")
	assert.Equal(t, "payhook-prod", v.Stages[len(v.Stages)-1])
}

// TestSmokeRoleInAnotherAccount: every env runs in an account of its own and holds the role
// its smoke step assumes; only the pipeline's smoke project role of that env may assume it,
// and it may read the smoke provider's secret and items only.
func TestSmokeRoleInAnotherAccount(t *testing.T) {
	pipelineAccount := *synthesized.built.Delivery.Account()
	for _, e := range synthesized.envs {
		if !e.Deployable() {
			continue
		}
		rs := resources(t, e.Name)
		var roles []resource
		for _, r := range rs {
			if r.Type == "AWS::IAM::Role" && r.Props["RoleName"] == contract.SmokeRoleName(e.Name) {
				roles = append(roles, r)
			}
		}
		require.NotEqual(t, pipelineAccount, e.Account, e.Name)
		require.Len(t, roles, 1, e.Name)
		trust := roles[0].Props["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
		assert.Equal(t, "arn:aws:iam::"+pipelineAccount+":role/"+contract.SmokeProjectRoleName(e.Name), trust["Principal"].(map[string]any)["AWS"])
		byAction := map[string]map[string]any{}
		for _, r := range rs {
			if r.Type != "AWS::IAM::Policy" || !strings.Contains(fmt.Sprint(r.Props["Roles"]), "SmokeRole") {
				continue
			}
			for _, st := range r.Props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				byAction[fmt.Sprint(st.(map[string]any)["Action"])] = st.(map[string]any)
			}
		}
		assert.ElementsMatch(t, []string{"apigateway:GET", "secretsmanager:GetSecretValue", "kms:Decrypt", "[dynamodb:GetItem dynamodb:Query]"}, slices.Collect(maps.Keys(byAction)))
		checkSmokeGrants(t, e.Name+" SmokeRole", e.Name, func(action string) map[string]any {
			st, ok := byAction[action]
			require.True(t, ok, "%s: SmokeRole grants no %s", e.Name, action)
			return st
		})
	}
}

// joinedBuildspec renders a buildspec (a string, or an Fn::Join whose tokens become "X").
func joinedBuildspec(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	join, _ := v.(map[string]any)["Fn::Join"].([]any)
	if len(join) == 2 {
		for _, part := range join[1].([]any) {
			if s, ok := part.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("X")
			}
		}
	}
	return b.String()
}

// envAccount is the account of the env named env.
func envAccount(t *testing.T, env string) string {
	t.Helper()
	for _, e := range synthesized.envs {
		if e.Name == env {
			return e.Account
		}
	}
	t.Fatalf("no env %s", env)
	return ""
}
