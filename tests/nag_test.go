package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/app"
)

// applyNag runs the AwsSolutions and PCI DSS 3.2.1 packs over every stage.
func applyNag(b *app.Built) {
	for _, st := range b.Stages {
		awscdk.Aspects_Of(st.Stage).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		awscdk.Aspects_Of(st.Stage).Add(cdknag.NewPCIDSS321Checks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	}
}

// nagFindings reads the error and warning annotations of an environment's assembly.
func nagFindings(t *testing.T, env string) (errs, warns []string) {
	t.Helper()
	// Annotations of a stack go to its <artifact>.metadata.json beside the template.
	files, err := filepath.Glob(filepath.Join(*synthesized.built.Stages[env].Outdir(), "*.metadata.json"))
	require.NoError(t, err)
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
// 3.2.1 packs in any environment. Suppressions live with their reasons in pipeline/nag.go.
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
}
