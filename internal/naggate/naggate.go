// Package naggate runs cdk-nag packs over synthesized CloudFormation templates, not over the
// construct tree that produced them: each template is imported with CDK's own
// cloudformation-include into a stack of its own and the packs run there as aspects. Rules
// that look for L1 classes then see every resource of the template, those CDK emits as a
// plain CfnResource too (custom resource providers, say), which an aspect on the original
// tree misses; the suppressions recorded on resources (package suppress) travel in the
// template's metadata, so they apply as they would in place.
package naggate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cloudformationinclude"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Gated are the packs every template must pass: AwsSolutions and PCI DSS 3.2.1.
func Gated(props *cdknag.NagPackProps) []awscdk.IAspect {
	return []awscdk.IAspect{cdknag.NewAwsSolutionsChecks(props), cdknag.NewPCIDSS321Checks(props)}
}

// Result is what the packs reported on one template.
type Result struct {
	// Errors are unsuppressed error-level findings ("<path>: <rule>: <message>"), which
	// fail the gate; Warnings the warning-level ones.
	Errors, Warnings []string
	// Outdir is the imported stack's assembly directory (cdk-nag's CSV reports, when asked
	// for, are written there).
	Outdir string
}

// Check imports templateFile into a new stack in its own Stage named id under scope (one App
// per process: jsii starts once), runs packs over it and reads their findings. A template
// cloudformation-include refuses (a dependency cycle, a dangling reference) is an error.
func Check(scope constructs.Construct, id, templateFile string, packs ...awscdk.IAspect) (res Result, err error) {
	stage := awscdk.NewStage(scope, jsii.String(id), nil)
	// The template brings its own BootstrapVersion parameter and rule.
	stack := awscdk.NewStack(stage, jsii.String("Included"), &awscdk.StackProps{
		Synthesizer: awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{GenerateBootstrapVersionRule: jsii.Bool(false)})})
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("cloudformation-include refused %s: %v", templateFile, p)
			}
		}()
		cloudformationinclude.NewCfnInclude(stack, jsii.String("Template"), &cloudformationinclude.CfnIncludeProps{
			TemplateFile: jsii.String(templateFile),
		})
	}()
	if err != nil {
		return res, err
	}
	for _, p := range packs {
		awscdk.Aspects_Of(stack).Add(p, nil)
	}
	var asm cxapi.CloudAssembly
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("synthesize %s with the packs: %v", templateFile, p)
			}
		}()
		asm = stage.Synth(nil)
	}()
	if err != nil {
		return res, err
	}
	res.Outdir = *asm.Directory()
	res.Errors, res.Warnings, err = readAnnotations(filepath.Join(res.Outdir, *stack.ArtifactId()+".metadata.json"))
	return res, err
}

// readAnnotations reads the error and warning annotations of a stack's metadata file.
func readAnnotations(file string) (errs, warns []string, err error) {
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil, nil // nothing to report
	}
	if err != nil {
		return nil, nil, fmt.Errorf("nag: %w", err)
	}
	var md map[string][]struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, nil, fmt.Errorf("nag: %s: %w", file, err)
	}
	for path, entries := range md {
		for _, e := range entries {
			msg, _ := e.Data.(string)
			line := path + ": " + strings.SplitN(msg, "\n", 2)[0]
			switch e.Type {
			case "aws:cdk:error":
				errs = append(errs, line)
			case "aws:cdk:warning":
				warns = append(warns, line)
			}
		}
	}
	sort.Strings(errs)
	sort.Strings(warns)
	return errs, warns, nil
}
