package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/iam"
)

// nagPacks are the AwsSolutions and PCI DSS 3.2.1 packs, which app.Build adds to every stage
// (before the pipeline synthesizes it) and to the pipeline stack.
func nagPacks() []awscdk.IAspect {
	return []awscdk.IAspect{cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}),
		cdknag.NewPCIDSS321Checks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)})}
}

// nagFindings reads the error and warning annotations of an environment's assembly.
func nagFindings(t *testing.T, env string) (errs, warns []string) {
	t.Helper()
	// Annotations of a stack go to its <artifact>.metadata.json beside the template.
	files, err := filepath.Glob(filepath.Join(*synthesized.built.Stages[env].Outdir(), "*.metadata.json"))
	require.NoError(t, err)
	return readFindings(t, files)
}

// pipelineNagFindings reads the annotations of the pipeline stack.
func pipelineNagFindings(t *testing.T) (errs, warns []string) {
	t.Helper()
	d := synthesized.built.Delivery
	return readFindings(t, []string{filepath.Join(synthesized.outdir, *d.ArtifactId()+".metadata.json")})
}

func readFindings(t *testing.T, files []string) (errs, warns []string) {
	t.Helper()
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var md map[string][]struct {
			Type string `json:"type"`
			Data any    `json:"data"`
		}
		require.NoError(t, json.Unmarshal(b, &md))
		for path, entries := range md {
			for _, e := range entries {
				msg, _ := e.Data.(string)
				line := path + ": " + strings.SplitN(msg, "\n", 2)[0]
				switch e.Type {
				case "aws:cdk:error":
					errs = append(errs, line)
				case "aws:cdk:warning":
					if strings.Contains(msg, "AwsSolutions-") || strings.Contains(msg, "PCI.DSS.321-") {
						warns = append(warns, line)
					}
				}
			}
		}
	}
	sort.Strings(errs)
	sort.Strings(warns)
	return errs, warns
}

// TestNagGates fails on any unsuppressed cdk-nag error of the AwsSolutions or PCI DSS
// 3.2.1 packs in any environment and in the pipeline stack. Suppressions live, per
// resource, with their reasons in stacks/payments/nag.go and stacks/delivery/nag.go.
func TestNagGates(t *testing.T) {
	for _, e := range synthesized.envs {
		t.Run(e.Name, func(t *testing.T) {
			errs, warns := nagFindings(t, e.Name)
			assert.Empty(t, errs, "cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			if len(warns) > 0 {
				t.Logf("cdk-nag warnings (%d):\n%s", len(warns), strings.Join(warns, "\n"))
			}
		})
	}
	t.Run("pipeline", func(t *testing.T) {
		errs, warns := pipelineNagFindings(t)
		assert.Empty(t, errs, "cdk-nag errors:\n%s", strings.Join(errs, "\n"))
		if len(warns) > 0 {
			t.Logf("cdk-nag warnings (%d):\n%s", len(warns), strings.Join(warns, "\n"))
		}
	})
}

// TestNagSuppressionsArePerResource: a stack-wide suppression would hide the same finding
// on any future resource, so every accepted finding is recorded on the resources it holds
// for, and none on the stack.
func TestNagSuppressionsArePerResource(t *testing.T) {
	templates := map[string]map[string]any{}
	for name, tmpl := range synthesized.templates {
		templates[name] = tmpl
	}
	b, err := os.ReadFile(filepath.Join(synthesized.outdir, *synthesized.built.Delivery.TemplateFile()))
	require.NoError(t, err)
	var pipeline map[string]any
	require.NoError(t, json.Unmarshal(b, &pipeline))
	templates["pipeline"] = pipeline
	for name, tmpl := range templates {
		t.Run(name, func(t *testing.T) {
			md, _ := tmpl["Metadata"].(map[string]any)
			assert.NotContains(t, md, "cdk_nag", "a stack-wide cdk-nag suppression")
			suppressed := 0
			for id, r := range tmpl["Resources"].(map[string]any) {
				rmd, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, ok := rmd["cdk_nag"].(map[string]any)
				if !ok {
					continue
				}
				suppressed++
				for _, rule := range nag["rules_to_suppress"].([]any) {
					reason, _ := rule.(map[string]any)["reason"].(string)
					assert.NotEmpty(t, reason, "%s: a suppression without a reason", id)
				}
			}
			assert.NotZero(t, suppressed, "the accepted findings are on their resources")
		})
	}
}

// TestOnlyXRayIsGrantedOnEveryResource keeps the one accepted Resource::* finding
// (AwsSolutions-IAM5 on the functions' default policies) true: the only actions granted on
// every resource are X-Ray's, which accept nothing else.
func TestOnlyXRayIsGrantedOnEveryResource(t *testing.T) {
	xray := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true}
	for name, tmpl := range synthesized.templates {
		for id, r := range tmpl["Resources"].(map[string]any) {
			r := r.(map[string]any)
			if r["Type"] != "AWS::IAM::Policy" {
				continue
			}
			doc := r["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				st := st.(map[string]any)
				if !slices.Contains(iam.Values(st["Resource"]), any("*")) {
					continue
				}
				for _, a := range iam.Values(st["Action"]) {
					assert.True(t, xray[a.(string)], "%s %s: %v granted on every resource", name, id, a)
				}
			}
		}
	}
}
