package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// newRole creates the pipeline's own role (contract.PipelineRoleName), which CodePipeline
// may assume for this pipeline alone; the target accounts' deploy roles trust it by name.
func (d *Stack) newRole(pc envs.Pipeline) {
	d.Role = awsiam.NewRole(d.Stack, jsii.String("PipelineRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(contract.PipelineRoleName),
		Description: jsii.String("payhook pipeline: CodePipeline's role; runs the deploy actions through each target account's deploy role"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("codepipeline.amazonaws.com"), nil).WithConditions(
			sourceConditions(pc.Account, d.arn(pc, "codepipeline", contract.PipelineName))),
	})
}

// newApprover creates the role whose holders may approve (or reject) a promotion, and only
// that: the principals envs/pipeline.yaml lists under approvers may assume it. Commit
// authors must not hold codepipeline:PutApprovalResult any other way (README: repository
// controls).
func (d *Stack) newApprover(pc envs.Pipeline) error {
	var accounts []awsiam.IPrincipal
	for _, a := range pc.ApproverAccounts() {
		accounts = append(accounts, awsiam.NewAccountPrincipal(jsii.String(a)))
	}
	d.Approver = awsiam.NewRole(d.Stack, jsii.String("Approver"), &awsiam.RoleProps{
		RoleName:           jsii.String(contract.PipelineApproverRoleName),
		Description:        jsii.String("payhook pipeline: approves promotions; assumable by envs/pipeline.yaml's approvers only"),
		AssumedBy:          awsiam.NewCompositePrincipal(accounts...).WithConditions(&map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": pc.Approvers}}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	approvals, err := d.approvalActions()
	if err != nil {
		return err
	}
	pipelineArn := d.arn(pc, "codepipeline", contract.PipelineName)
	if len(approvals) > 0 {
		var arns []*string
		for _, a := range approvals {
			arns = append(arns, jsii.String(pipelineArn+"/"+a))
		}
		d.Approver.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("codepipeline:PutApprovalResult"), Resources: &arns}))
	}
	d.Approver.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("codepipeline:GetPipeline", "codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution",
			"codepipeline:ListPipelineExecutions", "codepipeline:ListActionExecutions"),
		Resources: jsii.Strings(pipelineArn)}))
	// The approver may read the assembly an approval names, to check its digest.
	d.Storage.ArtifactBucket.GrantRead(d.Approver, nil)
	return d.scopeAutoApprove(pipelineArn, approvals)
}

// scopeAutoApprove limits what the permissions check's auto-approve function may approve,
// CDK Pipelines' grant on every approval of every pipeline tagged SECURITY_CHECK, to the
// check's own confirmations: never a person's approval.
func (d *Stack) scopeAutoApprove(pipelineArn string, approvals []string) error {
	var confirms []any
	for _, a := range approvals {
		if strings.HasSuffix(a, ".Confirm") {
			confirms = append(confirms, pipelineArn+"/"+a)
		}
	}
	for path, r := range d.ownResources() {
		p, ok := r.(awsiam.CfnPolicy)
		if !ok || !strings.Contains(path, "/CDKPipelinesAutoApprove/ServiceRole/DefaultPolicy/") {
			continue
		}
		doc, _ := d.Stack.Resolve(p.PolicyDocument()).(map[string]any)
		for _, raw := range doc["Statement"].([]any) {
			st, _ := raw.(map[string]any)
			if strings.Contains(fmt.Sprint(st["Action"]), "codepipeline:PutApprovalResult") {
				st["Resource"] = append([]any{pipelineArn}, confirms...)
			}
		}
		p.SetPolicyDocument(doc)
		return nil
	}
	if len(confirms) > 0 {
		return fmt.Errorf("the permissions check has no auto-approve policy to scope")
	}
	return nil
}

// approvalActions lists the manual approval actions of the built pipeline as
// "<stage>/<action>", the form of their ARNs' resource part.
func (d *Stack) approvalActions() ([]string, error) {
	cfn, ok := d.Pipeline.Pipeline().Node().DefaultChild().(awscodepipeline.CfnPipeline)
	if !ok {
		return nil, fmt.Errorf("the pipeline has no CloudFormation resource")
	}
	stages, err := parseStages(d.Stack.Resolve(cfn.Stages()))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range stages {
		for _, a := range st.actions {
			if a.category == "Approval" {
				out = append(out, st.name+"/"+a.name)
			}
		}
	}
	return out, nil
}

// sourceConditions limit a service's trust to this account and source (confused deputy).
func sourceConditions(account, sourceArn string, more ...string) *map[string]any {
	arns := append([]string{sourceArn}, more...)
	return &map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": account},
		"ArnLike":      map[string]any{"aws:SourceArn": arns},
	}
}

// arn is the ARN of one of the pipeline account's resources.
func (d *Stack) arn(pc envs.Pipeline, service, resource string) string {
	sep := "/"
	if service == "codepipeline" {
		sep = ""
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", contract.Partition(pc.Region), service, pc.Region, pc.Account,
		strings.TrimPrefix(sep+resource, "/"))
}

// projectNames are the names payhook gives the CodeBuild projects CDK Pipelines leaves
// unnamed, by a fragment of their construct path: a named project can be named in its role's
// trust (aws:SourceArn) without a dependency cycle.
var projectNames = []struct{ fragment, name string }{
	{"/Build/Synth/", "payhook-pipeline-synth"},
	{"/UpdatePipeline/SelfMutation/", "payhook-pipeline-self-mutation"},
	{"/Assets/FileAsset", "payhook-pipeline-assets"},
	{"/PipelinesSecurityCheck/CDKSecurityCheck/", "payhook-pipeline-permissions-check"},
}

// roleNames are the names payhook gives roles CDK Pipelines creates that a target account's
// bootstrap roles trust (contract.Pipeline*RoleName).
var roleNames = []struct{ fragment, name string }{
	{"/Assets/FileRole/", contract.PipelineAssetsRoleName},
	{"/PipelinesSecurityCheck/CDKSecurityCheck/Role/", contract.PipelineCheckRoleName},
}

// ownResources returns the CloudFormation resources of the pipeline stack itself (not of
// the stages nested under it), with their construct paths.
func (d *Stack) ownResources() map[string]awscdk.CfnResource {
	out := map[string]awscdk.CfnResource{}
	path := *d.Stack.Node().Path()
	for _, c := range *d.Stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if r, ok := c.(awscdk.CfnResource); ok && *awscdk.CfnResource_IsCfnResource(c) && *awscdk.Stack_Of(c).Node().Path() == path {
			out[*c.Node().Path()] = r
		}
	}
	return out
}

// nameProjectsAndRoles gives the unnamed projects and the trusted roles their names, and
// limits every service trust of the stack to this account and the resource it serves:
// CodeBuild to the projects that run as the role, CodePipeline to this pipeline. Lambda's
// trust (the auto-approve function of the permissions check) is left as CDK writes it:
// Lambda does not document aws:SourceArn or aws:SourceAccount on role assumption, and a
// condition it does not set would stop the function.
func (d *Stack) nameProjectsAndRoles(pc envs.Pipeline) error {
	resources := d.ownResources()
	projectsOf := map[string][]string{} // role logical id → project ARNs
	seen := map[string]int{}
	for _, path := range sortedKeys(resources) {
		p, ok := resources[path].(awscodebuild.CfnProject)
		if !ok || *resources[path].CfnResourceType() != "AWS::CodeBuild::Project" {
			continue
		}
		name, _ := d.Stack.Resolve(p.Name()).(*string)
		if resolved, ok := d.Stack.Resolve(p.Name()).(string); ok {
			name = &resolved
		}
		if name == nil || *name == "" || *name == "payhook-selfupdate" {
			n, err := named(path, projectNames)
			if err != nil {
				return err
			}
			if seen[n]++; seen[n] > 1 {
				n = fmt.Sprintf("%s-%d", n, seen[n])
			}
			p.SetName(jsii.String(n))
			name = &n
		}
		role := fmt.Sprint(d.Stack.Resolve(p.ServiceRole()))
		projectsOf[role] = append(projectsOf[role], d.arn(pc, "codebuild", "project/"+*name))
	}
	for _, path := range sortedKeys(resources) {
		r, ok := resources[path].(awsiam.CfnRole)
		if !ok || *resources[path].CfnResourceType() != "AWS::IAM::Role" {
			continue
		}
		if n, err := named(path, roleNames); err == nil {
			r.SetRoleName(jsii.String(n))
		}
		if err := d.limitServiceTrust(pc, path, r, projectsOf[fmt.Sprint(d.Stack.Resolve(r.AttrArn()))]); err != nil {
			return err
		}
	}
	return nil
}

// limitServiceTrust adds the source conditions to each service statement of a role's trust.
func (d *Stack) limitServiceTrust(pc envs.Pipeline, path string, r awsiam.CfnRole, projects []string) error {
	doc, _ := d.Stack.Resolve(r.AssumeRolePolicyDocument()).(map[string]any)
	statements, _ := doc["Statement"].([]any)
	changed := false
	for _, raw := range statements {
		st, _ := raw.(map[string]any)
		principal, _ := st["Principal"].(map[string]any)
		service, ok := principal["Service"].(string)
		if !ok || st["Condition"] != nil {
			continue
		}
		switch service {
		case "codebuild.amazonaws.com":
			if len(projects) == 0 {
				return fmt.Errorf("%s: trusts CodeBuild but no project of the pipeline runs as it", path)
			}
			st["Condition"] = *sourceConditions(pc.Account, projects[0], projects[1:]...)
		case "codepipeline.amazonaws.com":
			st["Condition"] = *sourceConditions(pc.Account, d.arn(pc, "codepipeline", contract.PipelineName))
		case "lambda.amazonaws.com":
			continue
		default:
			return fmt.Errorf("%s: trusts %s, which payhook does not know how to limit to its source", path, service)
		}
		changed = true
	}
	if changed {
		r.SetAssumeRolePolicyDocument(doc)
	}
	return nil
}

// named returns the name whose fragment the construct path contains.
func named(path string, names []struct{ fragment, name string }) (string, error) {
	for _, n := range names {
		if strings.Contains(path, n.fragment) {
			return n.name, nil
		}
	}
	return "", fmt.Errorf("%s: no name for it in payhook's pipeline (pipeline/trust.go)", path)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
