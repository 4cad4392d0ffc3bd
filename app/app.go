// Package app assembles payhook's CDK app from envs/: one payments stage per environment,
// and the delivery pipeline stack whose waves deploy the deployable ones. cmd/cdk (and so
// `mage synth` and the pipeline's own synth step) and the acceptance tests call Build.
package app

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/lambdabuild"
	"github.com/payhook/payhook/pipeline"
	"github.com/payhook/payhook/stacks/payments"
)

// AppConfig says what Build puts into an App.
type AppConfig struct {
	// EnvsDir holds envs/*.yaml (and pipeline.yaml).
	EnvsDir string
	// AssetsDir holds the built services (<service>/bootstrap).
	AssetsDir string
	// Only, when set, builds just that environment's stage (e.g. "local"), without the pipeline.
	Only string
	// WithPipeline builds the delivery pipeline from EnvsDir/pipeline.yaml: every deployable
	// environment becomes a stage of it (under the pipeline stack) instead of a top-level
	// stage. Local-only environments stay top-level either way.
	WithPipeline bool
	// Suffix, with Only, builds the preview copy of Only named by it (envs.Env.Preview)
	// instead of Only itself: a top-level stage, never a pipeline stage.
	Suffix string
	// Previews adds preview copies to the app: each env name mapped to its suffixes (the
	// tests' collision gate). Every copy is a top-level stage in Built.Previews.
	Previews map[string][]string
}

// Built is what Build added to the App.
type Built struct {
	// Envs are the environments loaded, sorted by (order, name).
	Envs []envs.Env
	// Stages are the payments stages built, by env name.
	Stages map[string]*payments.Stage
	// Previews are the preview copies' stages, by their names (<env>-<suffix>).
	Previews map[string]*payments.Stage
	// Delivery is the pipeline stack (nil without WithPipeline).
	Delivery *pipeline.Stack
}

// Build loads every environment from cfg.EnvsDir and adds its stages to scope (the App).
// Nothing is added when any env file, or pipeline.yaml, is invalid.
func Build(scope constructs.Construct, cfg AppConfig) (*Built, error) {
	list, err := envs.LoadDir(cfg.EnvsDir)
	if err != nil {
		return nil, err
	}
	previews, err := previewsOf(list, cfg)
	if err != nil {
		return nil, err
	}
	// A deployable env is built as the pipeline deploys it (with its smoke role), alone or not.
	var pc envs.Pipeline
	if cfg.Suffix == "" && needsPipeline(list, cfg.Only) {
		if pc, err = envs.LoadPipeline(filepath.Join(cfg.EnvsDir, envs.PipelineFile)); err != nil {
			return nil, err
		}
		if err = envs.CheckPipelineAccount(list, pc); err != nil {
			return nil, err
		}
	}
	if missing := lambdabuild.Missing(cfg.AssetsDir); len(missing) > 0 {
		return nil, fmt.Errorf("no bootstrap for %s in %s: run `go run mage.go build` first", strings.Join(missing, ", "), cfg.AssetsDir)
	}
	b := &Built{Envs: list, Stages: map[string]*payments.Stage{}, Previews: map[string]*payments.Stage{}}
	for _, p := range previews {
		b.Previews[p.Name] = payments.NewStage(scope, p, cfg.AssetsDir)
	}
	if cfg.Suffix != "" {
		return b, nil // the preview alone
	}
	found := cfg.Only == ""
	for _, e := range list {
		if cfg.Only != "" && e.Name != cfg.Only {
			continue
		}
		found = true
		if cfg.WithPipeline && cfg.Only == "" && e.Deployable() {
			continue // a stage of the pipeline, below
		}
		if e.Deployable() {
			b.Stages[e.Name] = pipeline.NewStage(scope, e, cfg.AssetsDir, pc.Account).Stage
		} else {
			b.Stages[e.Name] = payments.NewStage(scope, e, cfg.AssetsDir)
		}
	}
	if !found {
		return nil, fmt.Errorf("no environment named %q in %s", cfg.Only, cfg.EnvsDir)
	}
	if cfg.WithPipeline && cfg.Only == "" {
		b.Delivery = pipeline.NewStack(scope, contract.PipelineStackID, &pipeline.StackProps{Pipeline: pc, Envs: list,
			AssetsDir: cfg.AssetsDir})
		for name, st := range b.Delivery.Stages {
			b.Stages[name] = st.Stage
		}
	}
	return b, nil
}

// previewsOf makes the preview copies cfg asks for: Only's with Suffix, or Previews.
func previewsOf(list []envs.Env, cfg AppConfig) ([]envs.Env, error) {
	want := cfg.Previews
	if cfg.Suffix != "" {
		if cfg.Only == "" {
			return nil, fmt.Errorf("SUFFIX=%s names a copy of one env: set ENV=<name> too", cfg.Suffix)
		}
		want = map[string][]string{cfg.Only: {cfg.Suffix}}
	}
	var out []envs.Env
	for _, name := range slices.Sorted(maps.Keys(want)) {
		i := slices.IndexFunc(list, func(e envs.Env) bool { return e.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no environment named %q in %s", name, cfg.EnvsDir)
		}
		for _, suffix := range want[name] {
			p, err := list[i].Preview(suffix)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// Waves describes the pipeline's promotion waves for the envs in envsDir, one line per wave
// ("wave order-2: staging (permissions check)"), as the delivery stack builds them.
func Waves(envsDir string) ([]string, error) {
	list, err := envs.LoadDir(envsDir)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, wave := range envs.Waves(list) {
		var names []string
		for _, e := range wave {
			n := e.Name
			if e.RetainData {
				n += " (permissions check)"
			}
			if e.Approval == envs.ApprovalManual {
				n += " (manual approval)"
			}
			names = append(names, n)
		}
		lines = append(lines, fmt.Sprintf("wave order-%d: %s", wave[0].Order, strings.Join(names, ", ")))
	}
	return lines, nil
}

// StackPath is the CDK CLI's path of env's payments stack in the assembly Build wrote: under
// the pipeline stack for a deployable env when the whole app was synthesized, at the top
// when only that env was (alone) or it is local-only. env "pipeline" names the pipeline stack.
func StackPath(env string, alone, deployable bool) string {
	if env == "pipeline" {
		return contract.PipelineStackID
	}
	path := contract.StageName(env) + "/Payments"
	if !alone && deployable {
		path = contract.PipelineStackID + "/" + path
	}
	return path
}

// needsPipeline reports whether building only (or every env, when "") builds a deployable env.
func needsPipeline(list []envs.Env, only string) bool {
	for _, e := range list {
		if e.Deployable() && (only == "" || e.Name == only) {
			return true
		}
	}
	return false
}

// DiffTarget is a stack of the assembly and the template file to compare it with.
type DiffTarget struct{ Stack, Template string }

// DiffTargets pairs the templates of base (a *.template.json file or a directory of them,
// named <env>.template.json or pipeline.template.json) with the stacks of the assembly
// that Build wrote for the whole app (as the golden templates were), keeping only's alone
// when only is not "".
func DiffTargets(envsDir, base, only string) ([]DiffTarget, error) {
	files := []string{base}
	if fi, err := os.Stat(base); err == nil && fi.IsDir() {
		files, _ = filepath.Glob(filepath.Join(base, "*.template.json"))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("diff: no *.template.json in %s", base)
	}
	var out []DiffTarget
	for _, f := range files {
		env := strings.TrimSuffix(filepath.Base(f), ".template.json")
		if only != "" && env != only {
			continue
		}
		deployable := false
		if env != "pipeline" {
			e, err := envs.LoadFile(filepath.Join(envsDir, env+".yaml"))
			if err != nil {
				return nil, err
			}
			deployable = e.Deployable()
		}
		out = append(out, DiffTarget{Stack: StackPath(env, false, deployable), Template: f})
	}
	return out, nil
}

// NormalizedAssembly copies the cloud assembly in src to dst (replacing it) with every
// template normalized as the golden templates are (cfn.Normalize), so that `cdk diff`
// against a golden template shows infrastructure changes only, never a code hash. Asset
// directories are not copied: a diff reads templates, not code.
func NormalizedAssembly(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("normalized assembly: %w", err)
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "asset.") {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("normalized assembly: %w", err)
		}
		if strings.HasSuffix(d.Name(), ".template.json") {
			b = cfn.Normalize(b)
		}
		return os.WriteFile(target, b, 0o644)
	})
}
