// Command cdk is payhook's CDK app: one Stage per envs/*.yaml (payhook-<name>), built from
// the services compiled into build/ by `go run mage.go build`. cdk.json runs it; so does
// `go run mage.go synth`, which writes cdk.out without the CDK CLI.
//
// Environment: PAYHOOK_ENV limits the app to one environment (no pipeline), and with
// PAYHOOK_SUFFIX to that environment's preview copy (payhook-<env>-<suffix>);
// PAYHOOK_PIPELINE=0 leaves the pipeline out and puts every environment's stage at the top
// level; PAYHOOK_ENVS_DIR and PAYHOOK_ASSETS_DIR override envs/
// and build/. By default (cdk.json, the pipeline's own synth) the deployable environments
// are stages of the pipeline stack and local-only ones stay top-level.
//
// After synthesis every template written is checked against CloudFormation's own rules
// (internal/cfnrules: dependency cycles, dangling references, quotas, alarm delivery,
// invoke permissions); a template that breaks one is removed and the app exits 1, so
// neither `cdk deploy` nor the pipeline can pick it up.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/internal/cfnrules"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/pipeline"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "payhook cdk:", err)
		os.Exit(1)
	}
}

func run() error {
	cdkApp := awscdk.NewApp(nil)
	built, err := app.Build(cdkApp, app.AppConfig{
		EnvsDir:      getenv(contract.SynthEnvsDir, "envs"),
		AssetsDir:    getenv(contract.SynthAssetsDir, "build"),
		Only:         os.Getenv(contract.SynthEnv),
		WithPipeline: os.Getenv(contract.SynthPipeline) != "0",
		Suffix:       os.Getenv(contract.SynthSuffix),
	})
	if err != nil {
		return err
	}
	asm := cdkApp.Synth(nil)
	if built.Delivery != nil {
		// The pipeline's later steps install their tools from the lockfile in the assembly.
		if err := pipeline.LockCLIInstalls(*asm.Directory(), "."); err != nil {
			return err
		}
		// A pipeline that would deploy an env before the approval its env file asks for is
		// refused here, in the pipeline's own synth step, before self-mutation applies it.
		if err := pipeline.CheckApprovals(filepath.Join(*asm.Directory(), *built.Delivery.TemplateFile()), built.Envs); err != nil {
			return err
		}
	}
	return gate(*asm.Directory())
}

// gate applies CloudFormation's own rules (internal/cfnrules) to every template just
// written, and removes the templates that break them, so that neither `cdk deploy` nor the
// pipeline can pick up a template AWS would refuse or that would deploy broken.
func gate(dir string) error {
	reports, err := cfnrules.CheckAssembly(dir)
	if err == nil {
		// Names that collide across stacks: no one template is to blame, so none is
		// removed, but the synth fails before anything deploys.
		err = cfnrules.CheckAssemblyNames(dir)
	}
	var rmErrs []error
	for _, r := range reports {
		status := "ok"
		if len(r.Findings) > 0 {
			status = fmt.Sprintf("%d finding(s); template removed", len(r.Findings))
			if rmErr := os.Remove(r.File); rmErr != nil {
				status = fmt.Sprintf("%d finding(s); could not remove the template", len(r.Findings))
				rmErrs = append(rmErrs, fmt.Errorf("remove failing template: %w", rmErr))
			}
		}
		fmt.Fprintf(os.Stderr, "cfn rules: %s: %s\n", r.Quotas(), status)
	}
	if err != nil || len(rmErrs) > 0 {
		return fmt.Errorf("CloudFormation rules:\n%w", errors.Join(append([]error{err}, rmErrs...)...))
	}
	return nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
