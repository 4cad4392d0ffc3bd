package pipeline

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/lambdabuild"
)

// AppConfig says what Build puts into an App.
type AppConfig struct {
	// EnvsDir holds envs/*.yaml.
	EnvsDir string
	// AssetsDir holds the built services (<service>/bootstrap).
	AssetsDir string
	// Only, when set, builds just that environment's stage (e.g. "local").
	Only string
}

// Built is what Build added to the App.
type Built struct {
	// Envs are the environments loaded, sorted by (order, name).
	Envs []envs.Env
	// Stages are the payments stages built, by env name.
	Stages map[string]*PaymentsStage
}

// Build loads every environment from cfg.EnvsDir and adds one PaymentsStage per
// environment to scope (the App). Nothing is added when any env file is invalid.
func Build(app constructs.Construct, cfg AppConfig) (*Built, error) {
	list, err := envs.LoadDir(cfg.EnvsDir)
	if err != nil {
		return nil, err
	}
	if missing := lambdabuild.Missing(cfg.AssetsDir); len(missing) > 0 {
		return nil, fmt.Errorf("no bootstrap for %s in %s: run `go run mage.go build` first", strings.Join(missing, ", "), cfg.AssetsDir)
	}
	b := &Built{Envs: list, Stages: map[string]*PaymentsStage{}}
	found := cfg.Only == ""
	for _, e := range list {
		if cfg.Only != "" && e.Name != cfg.Only {
			continue
		}
		found = true
		b.Stages[e.Name] = NewPaymentsStage(app, e, cfg.AssetsDir)
	}
	if !found {
		return nil, fmt.Errorf("no environment named %q in %s", cfg.Only, cfg.EnvsDir)
	}
	return b, nil
}
