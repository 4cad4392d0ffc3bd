package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// pinnedInstall installs bin (cdk or cdk-assets) from the lockfile the synth step copied into
// the cloud assembly (contract.PipelineCLIDir), instead of `npm install -g …`, which resolves
// whatever the registry serves that day.
// (No quotes: the command lands inside a JSON buildspec; CodeBuild's source paths have no spaces.)
func pinnedInstall(bin string) string {
	return fmt.Sprintf(`npm ci --prefix %[1]s --no-audit --no-fund && ln -sf $PWD/%[1]s/node_modules/.bin/%[2]s /usr/local/bin/%[2]s`,
		contract.PipelineCLIDir, bin)
}

// harden tightens what CDK Pipelines generates and offers no option for: the self-mutation
// and permission-check projects install the CLI from the lockfile, and the asset
// publishing role may start only the asset projects.
func (d *Stack) harden(pc envs.Pipeline) error {
	if err := d.nameProjectsAndRoles(pc); err != nil {
		return err
	}
	if err := d.newApprover(pc); err != nil {
		return err
	}
	if err := d.logSecurityCheck(); err != nil {
		return err
	}
	d.keepArtifacts()
	var assets []awscodebuild.CfnProject
	for _, p := range d.projects() {
		if err := d.pinCLI(p); err != nil {
			return err
		}
		if strings.Contains(*p.Node().Path(), "/Assets/") {
			assets = append(assets, p)
		}
	}
	return d.scopeAssetStartBuild(assets)
}

// projects are the CodeBuild projects of the pipeline, by path.
func (d *Stack) projects() []awscodebuild.CfnProject {
	var out []awscodebuild.CfnProject
	for _, c := range *d.Pipeline.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if p, ok := c.(awscodebuild.CfnProject); ok && *awscdk.CfnResource_IsCfnResource(c) &&
			*p.CfnResourceType() == "AWS::CodeBuild::Project" {
			out = append(out, p)
		}
	}
	return out
}

// pinCLI rewrites a project's buildspec where it installs the CDK CLI from the registry.
func (d *Stack) pinCLI(p awscodebuild.CfnProject) error {
	source := d.Stack.Resolve(p.Source())
	changed := false
	rewritten := rewriteStrings(source, func(s string) string {
		for _, install := range []string{"npm install -g aws-cdk@" + contract.CDKCLIVersion, "npm install -g aws-cdk"} {
			if strings.Contains(s, install) {
				changed = true
				return strings.ReplaceAll(s, install, pinnedInstall("cdk"))
			}
		}
		return s
	})
	if !changed {
		return nil
	}
	var spec any
	for k, v := range rewritten.(map[string]any) {
		if strings.EqualFold(k, "BuildSpec") {
			spec = v
		}
	}
	if spec == nil {
		return fmt.Errorf("project %s: no buildspec to pin the CDK CLI in", *p.Node().Path())
	}
	p.AddPropertyOverride(jsii.String("Source.BuildSpec"), spec)
	return nil
}

// rewriteStrings applies f to every string in a resolved CloudFormation value.
func rewriteStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rewriteStrings(e, f)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = rewriteStrings(e, f)
		}
		return out
	}
	return v
}

// scopeAssetStartBuild limits the asset publishing role's codebuild:StartBuild (and
// BatchGetBuilds, StopBuild), and its CodeBuild log and report group grants, which CDK
// Pipelines gives on every project of the account, to the pipeline's asset projects.
func (d *Stack) scopeAssetStartBuild(projects []awscodebuild.CfnProject) error {
	assets := d.Pipeline.Node().TryFindChild(jsii.String("Assets"))
	if assets == nil {
		return nil
	}
	var arns, logs, reports []any
	for _, p := range projects {
		ref := *p.Ref()
		arns = append(arns, d.Stack.Resolve(p.AttrArn()))
		logs = append(logs, d.Stack.Resolve(d.Stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"),
			Resource: jsii.String("log-group"), ResourceName: jsii.String("/aws/codebuild/" + ref + ":*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})))
		reports = append(reports, d.Stack.Resolve(d.Stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("codebuild"),
			Resource: jsii.String("report-group"), ResourceName: jsii.String(ref + "-*")})))
	}
	sort.Slice(arns, func(i, j int) bool { return fmt.Sprint(arns[i]) < fmt.Sprint(arns[j]) })
	policy := assets.Node().TryFindChild(jsii.String("FileRole"))
	if policy == nil {
		return nil
	}
	def, ok := policy.Node().TryFindChild(jsii.String("DefaultPolicy")).(awsiam.Policy)
	if !ok {
		return fmt.Errorf("pipeline assets: the file role has no default policy")
	}
	cfn, ok := def.Node().DefaultChild().(awsiam.CfnPolicy)
	if !ok {
		return fmt.Errorf("pipeline assets: the file role's policy is not an AWS::IAM::Policy")
	}
	doc, _ := d.Stack.Resolve(cfn.PolicyDocument()).(map[string]any)
	statements, _ := doc["Statement"].([]any)
	scoped := false
	for _, raw := range statements {
		st, _ := raw.(map[string]any)
		res := fmt.Sprint(st["Resource"])
		switch {
		case st["Resource"] == "*" && strings.Contains(fmt.Sprint(st["Action"]), "codebuild:StartBuild"):
			st["Resource"] = arns
		case strings.Contains(res, "log-group:/aws/codebuild/*"):
			st["Resource"] = logs
		case strings.Contains(res, "report-group/*"):
			st["Resource"] = reports
		default:
			continue
		}
		scoped = true
	}
	if scoped {
		// Set on the resource itself (not as an override), so that what checks the construct
		// tree (cdk-nag) sees what is deployed.
		cfn.SetPolicyDocument(doc)
	}
	return nil
}

// LockCLIInstalls finishes a synthesized pipeline assembly (cmd/cdk calls it after synth):
// it copies the CLI lockfile (contract.PipelineCLISource under root) into the assembly as
// contract.PipelineCLIDir, and rewrites the asset steps' buildspec files, which CDK Pipelines
// writes into the assembly with `npm install -g cdk-assets@<version>`, to install from it.
// A buildspec that still installs a package globally from the registry is an error.
func LockCLIInstalls(assembly, root string) error {
	dst := filepath.Join(assembly, contract.PipelineCLIDir)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("lock CLI installs: %w", err)
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(root, contract.PipelineCLISource, f))
		if err != nil {
			return fmt.Errorf("lock CLI installs: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			return fmt.Errorf("lock CLI installs: %w", err)
		}
	}
	specs, err := filepath.Glob(filepath.Join(assembly, "buildspec-*.yaml"))
	if err != nil {
		return err
	}
	install := pinnedInstall("cdk-assets")
	for _, path := range specs {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "npm install -g cdk-assets@"+contract.CDKAssetsVersion, install)
		if strings.Contains(s, "npm install -g") {
			return fmt.Errorf("%s: a global npm install from the registry is left", path)
		}
		if !json.Valid([]byte(s)) {
			return fmt.Errorf("%s: not valid JSON once rewritten", path)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			return err
		}
	}
	return nil
}
