// Package payhook is payhook's App for the local runner (internal/localrun): what payhook's
// conventions say that its CloudFormation template does not.
//
//   - A function runs the payhook service its PAYHOOK_SERVICE variable names, built for
//     this machine from services/<service without dashes>; a function without one is not
//     run.
//   - The webhook providers are the PROVIDERS variable of the function whose
//     SIGNING_SECRET_ARN names a generated secret: that secret gets one local signing
//     secret per signed provider (reused from the previous run), in the JSON that
//     services/internal/secrets reads.
//   - The state's table and queue are the ingest function's TABLE_NAME and QUEUE_URL, its
//     topic notify-failures' ALERT_TOPIC_ARN.
package payhook

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
)

// App is payhook's localrun.App.
type App struct{}

var _ localrun.App = App{}

// Builds returns the service packages that the template's functions run (their
// PAYHOOK_SERVICE, where it is a literal), checking that each exists.
func (App) Builds(tmpl *cfn.Template, root string) (map[string]string, error) {
	r := cfn.NewResolver(tmpl, "")
	pkgs := map[string]string{}
	for _, id := range tmpl.LogicalIDs(provision.TypeFunction) {
		raw, ok := cfn.LookupPath(tmpl.Resources[id].Properties, "Environment.Variables."+contract.EnvPayhookService)
		if !ok {
			continue
		}
		s, err := r.ResolveString(raw)
		if err != nil || s == "" {
			continue
		}
		dir := ServiceDir(s)
		if st, err := os.Stat(filepath.Join(root, "services", dir)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("function %s: %s %q has no package services/%s", id, contract.EnvPayhookService, s, dir)
		}
		pkgs[dir] = "./services/" + dir
	}
	return pkgs, nil
}

// ProvisionHooks runs only payhook services and gives the signing secret its providers'
// local secrets, reusing those of prev.
func (App) ProvisionHooks(prev *localrun.State) provision.Hooks {
	s := &signing{reuse: previousSecrets(prev)}
	return provision.Hooks{Prepare: s.prepare, SecretValue: s.value, Function: runsService}
}

// runsService sets the function's service from PAYHOOK_SERVICE; without one, the function
// is not run.
func runsService(spec *lambdarie.FunctionSpec) string {
	spec.Service = spec.Env[contract.EnvPayhookService]
	if spec.Service == "" {
		return "no " + contract.EnvPayhookService + " environment variable: not a payhook service, not run locally"
	}
	return ""
}

// Describe returns the providers with the secrets the functions read, and the main
// resources as the ingest and notify-failures functions see them.
func (App) Describe(ctx context.Context, l *localrun.Local) (localrun.AppFacts, error) {
	providers, err := Providers(ctx, l.Template, l.Stack, l.Clients)
	if err != nil {
		return localrun.AppFacts{}, err
	}
	var facts localrun.AppFacts
	formats := map[string]contract.PayloadFormat{}
	keys := map[string]string{} // provider → key value
	if f, ok := FunctionByService(l.Stack, "ingest"); ok {
		if keys, err = providerKeys(l.Stack, f.Env[contract.EnvAPIKeys]); err != nil {
			return localrun.AppFacts{}, fmt.Errorf("ingest function: %w", err)
		}
		facts.Table = f.Env[contract.EnvTableName]
		facts.QueueURL = f.Env[contract.EnvQueueURL]
		facts.Live = f.Env[contract.EnvLive] == "true"
		if formats, err = contract.ParseFormatsSpec(f.Env[contract.EnvPayloadFormats]); err != nil {
			return localrun.AppFacts{}, fmt.Errorf("ingest function: %w", err)
		}
	}
	for _, p := range providers {
		sp := localrun.StateProvider{Name: p.Name, Scheme: p.Scheme, Secret: p.Secret, APIKey: keys[p.Name]}
		sp.Keyless = len(keys) > 0 && sp.APIKey == ""
		if f, ok := formats[p.Name]; ok {
			sp.Format, _ = json.Marshal(f)
		}
		facts.Providers = append(facts.Providers, sp)
	}
	if f, ok := FunctionByService(l.Stack, "notify-failures"); ok {
		facts.TopicARN = f.Env[contract.EnvAlertTopicARN]
	}
	return facts, nil
}

// providerKeys resolves an API_KEYS value ("acme:<key id>,…") to each provider's local key.
func providerKeys(st *provision.Stack, spec string) (map[string]string, error) {
	byID := map[string]string{}
	for _, api := range st.APIs {
		for _, plan := range api.UsagePlans {
			for _, k := range plan.Keys {
				byID[k.ID] = k.Value
			}
		}
	}
	out := map[string]string{}
	for _, part := range strings.Split(spec, ",") {
		if part == "" {
			continue
		}
		provider, id, ok := strings.Cut(part, ":")
		if !ok || byID[id] == "" {
			return nil, fmt.Errorf("%s: %q names no API key of the stack", contract.EnvAPIKeys, part)
		}
		out[provider] = byID[id]
	}
	return out, nil
}

// Bootstrap returns the host build of the function's service (building it when its name
// was not a literal in the template).
func (App) Bootstrap(ctx context.Context, l *localrun.Local, fn lambdarie.FunctionSpec) (string, error) {
	dir := ServiceDir(fn.Service)
	return l.Build(ctx, dir, "./services/"+dir)
}

// ServiceDir returns a service's package directory under services/ (the service name
// without dashes: notify-failures lives in services/notifyfailures).
func ServiceDir(service string) string { return strings.ReplaceAll(service, "-", "") }

// FunctionByService returns the first function of the stack running the service; dashes
// do not count ("notify-failures" finds PAYHOOK_SERVICE=notifyfailures and the reverse).
func FunctionByService(st *provision.Stack, service string) (lambdarie.FunctionSpec, bool) {
	for _, f := range st.Functions {
		if ServiceDir(f.Service) == ServiceDir(service) {
			return f, true
		}
	}
	return lambdarie.FunctionSpec{}, false
}

// previousSecrets returns the providers' secrets of a previous state by provider name.
func previousSecrets(prev *localrun.State) map[string]string {
	secrets := map[string]string{}
	if prev == nil {
		return secrets
	}
	for _, p := range prev.Providers {
		if p.Secret != "" {
			secrets[p.Name] = p.Secret
		}
	}
	return secrets
}
