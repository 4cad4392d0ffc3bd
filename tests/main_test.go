// Package tests holds payhook's acceptance tests across packages: every environment in
// envs/ synthesized and asserted, golden templates, cdk-nag gates, the bad-envs corpus,
// the example app, and end-to-end runs against the local stack.
//
// One jsii runtime and one App serve the whole binary: TestMain builds the services once,
// synthesizes every environment once, and the tests read the resulting templates.
package tests

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/lambdabuild"
)

var update = flag.Bool("update", false, "rewrite the golden templates in testdata/")

// synthesized is the one synthesis of every environment shared by the tests.
var synthesized struct {
	assets    string
	outdir    string
	envs      []envs.Env
	templates map[string]map[string]any // env name → template
	previews  map[string]map[string]any // preview name (<env>-<suffix>) → template
	app       awscdk.App
	built     *app.Built
}

// testPreviews are the preview copies synthesized beside every env: a copy of each env that
// allows them (prod does not), dev twice, as two pull requests would.
var testPreviews = map[string][]string{"dev": {"pr-1", "pr-2"}, "staging": {"pr-1"}, "local": {"pr-1"}}

// readTemplate reads a template file as JSON.
func readTemplate(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	var t map[string]any
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("read template %s: %w", path, err)
	}
	return t, nil
}

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		code = 1
	}
	jsii.Close()
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "payhook-tests-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	synthesized.assets = filepath.Join(tmp, "build")
	if err := lambdabuild.Build(context.Background(), "..", synthesized.assets, lambdabuild.Lambda); err != nil {
		return 1, err
	}
	synthesized.outdir = filepath.Join(tmp, "cdk.out")
	synthesized.app = awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(synthesized.outdir)})
	built, err := app.Build(synthesized.app, app.AppConfig{EnvsDir: "../envs", AssetsDir: synthesized.assets, WithPipeline: true,
		Previews: testPreviews})
	if err != nil {
		return 1, err
	}
	synthesized.app.Synth(nil)
	synthesized.envs = built.Envs
	synthesized.built = built
	synthesized.templates = map[string]map[string]any{}
	for name, st := range built.Stages {
		// The stage's stack lives in the stage's nested assembly; read its template file.
		t, err := readTemplate(filepath.Join(*st.Outdir(), *st.Payments.TemplateFile()))
		if err != nil {
			return 1, fmt.Errorf("template of %s: %w", name, err)
		}
		synthesized.templates[name] = t
	}
	synthesized.previews = map[string]map[string]any{}
	for name, st := range built.Previews {
		t, err := readTemplate(filepath.Join(*st.Outdir(), *st.Payments.TemplateFile()))
		if err != nil {
			return 1, err
		}
		synthesized.previews[name] = t
	}
	code := m.Run()
	if err := stopLocal(); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		code = 1
	}
	return code, nil
}
