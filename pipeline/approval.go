package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
)

// What is approved is what deploys: the synth step exports the digest of the cloud assembly
// it wrote (AssemblyDigestVariable, by DigestCommand run inside it), every approval names it
// with the commit, and a verify step after the approval recomputes it over the artifact the
// deploy actions are about to read, and stops the promotion when they differ.
const (
	// AssemblyDigestVariable is the synth step's exported variable holding the digest.
	AssemblyDigestVariable = "ASSEMBLY_SHA256"
	// DigestCommand prints the SHA-256 of a directory's files (paths and contents, in byte
	// order of their paths), run inside it. Plain POSIX tools: the verify step has only the
	// assembly, not the repository.
	DigestCommand = "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64"
)

// approveAndVerify returns the approval of env (naming the commit and the assembly digest)
// and the step that verifies, once it is given, that the assembly is still the approved one.
func (d *Stack) approveAndVerify(e envs.Env, pc envs.Pipeline) (approve, verify pipelines.Step) {
	commit := d.Source.SourceAttribute(jsii.String("CommitId"))
	digest := d.Synth.ExportedVariable(jsii.String(AssemblyDigestVariable))
	a := pipelines.NewManualApprovalStep(jsii.String("Approve-"+e.Name), &pipelines.ManualApprovalStepProps{
		Comment: jsii.String(fmt.Sprintf("Promote commit %s of %s to %s: cloud assembly sha256 %s (%s, run inside the synth output)",
			*commit, pc.Repository, e.Name, *digest, DigestCommand)),
		ReviewUrl:         jsii.String(fmt.Sprintf("https://github.com/%s/commit/%s", pc.Repository, *commit)),
		NotificationTopic: d.Storage.Notifications,
	})
	v := pipelines.NewCodeBuildStep(jsii.String("VerifyAssembly-"+e.Name), &pipelines.CodeBuildStepProps{
		ProjectName: jsii.String(contract.VerifyProjectName(e.Name)),
		Input:       d.Synth,
		Env:         &map[string]*string{"APPROVED_SHA256": digest},
		Commands: jsii.Strings(`actual=$(`+DigestCommand+`)`,
			`if [ "$actual" != "$APPROVED_SHA256" ]; then echo "the cloud assembly is $actual, not the approved $APPROVED_SHA256: not deploying"; exit 1; fi`),
	})
	v.AddStepDependency(a)
	return a, v
}

// stage is one stage of a CodePipeline, as its template declares it.
type stage struct {
	name    string
	actions []stageAction
}

type stageAction struct {
	name, category string
	runOrder       float64
}

// parseStages reads the Stages property of an AWS::CodePipeline::Pipeline.
func parseStages(v any) ([]stage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var raw []struct {
		Name    string
		Actions []struct {
			Name         string
			ActionTypeID struct{ Category string } `json:"ActionTypeId"`
			RunOrder     float64
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("pipeline stages: %w", err)
	}
	out := make([]stage, len(raw))
	for i, s := range raw {
		out[i].name = s.Name
		for _, a := range s.Actions {
			out[i].actions = append(out[i].actions, stageAction{a.Name, a.ActionTypeID.Category, max(a.RunOrder, 1)})
		}
	}
	return out, nil
}

// CheckApprovals refuses a synthesized pipeline (the template file of the pipeline stack in
// a cloud assembly) that would deploy an env of list before the checks its env file asks for:
// an env with approval manual needs its approval, then the assembly's verification, before
// its first deploy action; one with retain_data needs the permissions check before the
// approval. cmd/cdk runs it after every synth, so the pipeline's own synth step refuses a
// commit whose pipeline lost an approval before self-mutation applies it.
func CheckApprovals(templateFile string, list []envs.Env) error {
	tmpl, err := cfn.ParseTemplate(templateFile)
	if err != nil {
		return fmt.Errorf("check approvals: %w", err)
	}
	var stages []stage
	for _, id := range tmpl.LogicalIDs("AWS::CodePipeline::Pipeline") {
		if stages, err = parseStages(tmpl.Property(id, "Stages")); err != nil {
			return err
		}
	}
	var errs []error
	for _, e := range list {
		if e.Deployable() {
			errs = append(errs, checkEnvGates(stages, e)...)
		}
	}
	return errors.Join(errs...)
}

// checkEnvGates checks the actions before env's first deploy action.
func checkEnvGates(stages []stage, e envs.Env) []error {
	deploy := e.StageName() + ".Prepare"
	for _, st := range stages {
		order := map[string]float64{}
		for _, a := range st.actions {
			order[a.name] = a.runOrder
		}
		at, ok := order[deploy]
		if !ok {
			continue
		}
		var errs []error
		before := func(name, why string) {
			if o, ok := order[name]; !ok || o >= at {
				errs = append(errs, fmt.Errorf("pipeline stage %s deploys %s without %s first (%s)", st.name, e.Name, name, why))
			}
		}
		if e.Approval == envs.ApprovalManual {
			before("Approve-"+e.Name, "envs/"+e.Name+".yaml: approval: manual")
			before("VerifyAssembly-"+e.Name, "what is approved is what deploys")
			if order["VerifyAssembly-"+e.Name] <= order["Approve-"+e.Name] {
				errs = append(errs, fmt.Errorf("pipeline stage %s verifies %s's assembly before its approval", st.name, e.Name))
			}
		}
		if e.RetainData {
			before("CheckPermissions-"+e.Name+".Check", "envs/"+e.Name+".yaml: retain_data: true")
		}
		return errs
	}
	return []error{fmt.Errorf("the pipeline has no stage deploying %s (no action %s)", e.Name, deploy)}
}
