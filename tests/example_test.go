package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/examples/ordersapp"
)

var example struct {
	once sync.Once
	dir  string
	file string
}

// exampleAssembly synthesizes the example app once, in its own stage of the shared App, and
// returns the stage's assembly directory.
func exampleAssembly(t *testing.T) string {
	t.Helper()
	example.once.Do(func() {
		code, err := os.MkdirTemp("", "payhook-example-")
		if err != nil {
			return
		}
		for _, fn := range []string{"receiver", "shipper", "report"} {
			if os.MkdirAll(filepath.Join(code, fn), 0o755) != nil ||
				os.WriteFile(filepath.Join(code, fn, "bootstrap"), []byte("#!/bin/sh\n"), 0o755) != nil {
				return
			}
		}
		stage := awscdk.NewStage(synthesized.app, jsii.String("Example"), nil)
		s := ordersapp.NewStack(stage, "Orders", code)
		asm := stage.Synth(nil)
		example.dir = *asm.Directory()
		example.file = filepath.Join(example.dir, *s.TemplateFile())
	})
	require.NotEmpty(t, example.dir, "synthesize the example app")
	return example.dir
}

// TestExampleApp synthesizes the example app the way another team would use the
// constructs, and checks that it got the constructs' resources and secure defaults.
func TestExampleApp(t *testing.T) {
	exampleAssembly(t)
	b, err := os.ReadFile(example.file)
	require.NoError(t, err)
	var tmpl map[string]any
	require.NoError(t, json.Unmarshal(b, &tmpl))
	counts := map[string]int{}
	var method map[string]any
	for _, raw := range tmpl["Resources"].(map[string]any) {
		r := raw.(map[string]any)
		counts[r["Type"].(string)]++
		if r["Type"] == "AWS::ApiGateway::Method" {
			method = r["Properties"].(map[string]any)
		}
	}
	assert.Equal(t, 3, counts["AWS::Lambda::Function"])
	assert.Equal(t, 2, counts["AWS::SQS::Queue"])
	assert.Equal(t, 1, counts["AWS::WAFv2::WebACL"])
	assert.Equal(t, 4*3+2+3, counts["AWS::CloudWatch::Alarm"], "four alarms per function, two per queue pair, three on the API (5xx, latency, WAF)")
	assert.Zero(t, counts["Custom::LogRetention"])
	require.NotNil(t, method)
	assert.Equal(t, "AWS_PROXY", method["Integration"].(map[string]any)["Type"])
	assert.Equal(t, true, method["ApiKeyRequired"])
}
