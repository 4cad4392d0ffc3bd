package bootstrap

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
)

// CDKTemplate is where the pinned CDK CLI keeps its bootstrap template, under the project.
var CDKTemplate = filepath.Join("node_modules", "aws-cdk", "lib", "api", "bootstrap", "bootstrap-template.yaml")

// Plan is the bootstrap of one account and region.
type Plan struct {
	// Account and Region are where it bootstraps; Trust is the pipeline's account whose named
	// roles it trusts ("" when this is the pipeline's own account).
	Account, Region, Trust string
	// Stacks are the stacks that will deploy there, whose templates the policy serves.
	Stacks []string
	// Policies are the execution policy documents; Template the bootstrap template (JSON).
	Policies []map[string]any
	Template []byte
	// Dir is where Write puts them: .payhook/bootstrap/<account>-<region> (synth clears cdk.out).
	Dir string
}

// NewPlan prepares the bootstrap of the account and region of env ("pipeline" for the
// pipeline's) from a synthesized cloud assembly holding every stack (the pipeline and its
// stages) and CDK's bootstrap template: every stack of the assembly deploying to that
// account and region is served by one execution policy.
func NewPlan(assembly, envsDir, env string, cdkTemplate []byte) (*Plan, error) {
	pc, err := envs.LoadPipeline(filepath.Join(envsDir, envs.PipelineFile))
	if err != nil {
		return nil, err
	}
	p := &Plan{Account: pc.Account, Region: pc.Region}
	if env != "pipeline" {
		e, err := envs.LoadFile(filepath.Join(envsDir, env+".yaml"))
		if err != nil {
			return nil, err
		}
		if !e.Deployable() {
			return nil, fmt.Errorf("bootstrap: %s is local_only: it never deploys to AWS", env)
		}
		p.Account, p.Region, p.Trust = e.Account, e.Region, pc.Account
	}
	stacks, err := cfn.Stacks(assembly)
	if err != nil {
		return nil, err
	}
	var templates []*cfn.Template
	for _, st := range stacks {
		if st.Account != p.Account || st.Region != p.Region {
			continue
		}
		t, err := cfn.Load(st)
		if err != nil {
			return nil, err
		}
		templates = append(templates, t)
		p.Stacks = append(p.Stacks, t.StackName)
	}
	if len(templates) == 0 {
		return nil, fmt.Errorf("bootstrap: no stack of %s deploys to %s/%s: synthesize the whole app first (go run mage.go synth)", assembly, p.Account, p.Region)
	}
	slices.Sort(p.Stacks)
	statements, err := ExecutionPolicy(contract.Partition(p.Region), p.Account, templates)
	if err != nil {
		return nil, err
	}
	if p.Policies, err = Documents(statements); err != nil {
		return nil, err
	}
	if p.Template, err = BootstrapTemplate(cdkTemplate, p.Policies); err != nil {
		return nil, err
	}
	p.Dir = filepath.Join(".payhook", "bootstrap", p.Account+"-"+p.Region)
	return p, nil
}

// Write writes the policy documents (execution-policy-<n>.json, for review) and the
// bootstrap template (bootstrap-template.json) into p.Dir.
func (p *Plan) Write() error {
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	for i, doc := range p.Policies {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(p.Dir, fmt.Sprintf("execution-policy-%d.json", i+1)), b, 0o644); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	if err := os.WriteFile(p.TemplateFile(), p.Template, 0o644); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

// TemplateFile is the bootstrap template Write writes.
func (p *Plan) TemplateFile() string { return filepath.Join(p.Dir, "bootstrap-template.json") }

// Args are the CDK CLI's arguments of this bootstrap. The CLI requires
// --cloudformation-execution-policies with --trust: it names the policies the template
// creates and attaches itself (ExecutionPolicyName).
func (p *Plan) Args() []string {
	var arns []string
	for i := range p.Policies {
		arns = append(arns, fmt.Sprintf("arn:%s:iam::%s:policy/%s", contract.Partition(p.Region), p.Account,
			strings.ReplaceAll(ExecutionPolicyName(i), "${AWS::Region}", p.Region)))
	}
	args := []string{"bootstrap", "aws://" + p.Account + "/" + p.Region, "--template", p.TemplateFile(),
		"--cloudformation-execution-policies", strings.Join(arns, ",")}
	if p.Trust != "" {
		args = append(args, "--trust", p.Trust)
	}
	return args
}
