package localrun

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
)

// App is what the runner needs to know about an application beyond its template. Start
// calls its methods in this order: Builds, ProvisionHooks, Describe, then Bootstrap for
// every function.
type App interface {
	// Builds returns the Go packages to build as Lambda bootstraps, by name; they build
	// while the emulators start (Local.Build builds more later).
	Builds(tmpl *cfn.Template, root string) (map[string]string, error)
	// ProvisionHooks returns the application's hooks into provisioning; prev is the
	// previous run's state (nil on a first run), whose secrets it may reuse.
	ProvisionHooks(prev *State) provision.Hooks
	// Describe returns the application's facts about the provisioned stack, which every
	// State carries.
	Describe(ctx context.Context, l *Local) (AppFacts, error)
	// Bootstrap returns the bootstrap that runs a function of the stack.
	Bootstrap(ctx context.Context, l *Local, fn lambdarie.FunctionSpec) (string, error)
}

// AppFacts are what an application knows of its running stack that the template does not
// say: its webhook providers with their local secrets, and which table, queue and topic
// are its main ones. Empty fields are filled in from the stack where it has one
// candidate (see Local.State).
type AppFacts struct {
	Providers []StateProvider
	Live      bool
	Table     string
	QueueURL  string
	TopicARN  string
}

// DefaultApp is the App of an application the runner knows nothing about: nothing is
// built, provisioning follows the template alone (every function runs), the state holds
// no application facts, and each function runs the bootstrap of its code asset in the
// cloud assembly as it is (so it must be built for this machine).
type DefaultApp struct{}

// Builds builds nothing.
func (DefaultApp) Builds(*cfn.Template, string) (map[string]string, error) { return nil, nil }

// ProvisionHooks runs the functions of a custom runtime (provided.*, a bootstrap in their
// code asset) and lists the others (Node, Python, images, CDK's own provider functions) as
// unsupported rather than failing the start.
func (DefaultApp) ProvisionHooks(*State) provision.Hooks {
	return provision.Hooks{Function: func(spec *lambdarie.FunctionSpec) string {
		if !strings.HasPrefix(spec.Runtime, "provided") {
			return fmt.Sprintf("runtime %q: only custom runtimes (provided.*) with a bootstrap run locally", spec.Runtime)
		}
		return ""
	}}
}

// Describe knows no facts.
func (DefaultApp) Describe(context.Context, *Local) (AppFacts, error) { return AppFacts{}, nil }

// Bootstrap returns the bootstrap file of the function's code asset (cfn.Template.CodeAsset).
func (DefaultApp) Bootstrap(_ context.Context, l *Local, fn lambdarie.FunctionSpec) (string, error) {
	dir, err := l.Template.CodeAsset(fn.LogicalID)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "bootstrap")
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("code asset %s has no bootstrap: %w", dir, err)
	}
	if st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is not executable", path)
	}
	return path, nil
}
