package localrun

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
)

// The files the IAM proxy writes in the work directory.
const (
	// CallsFile records every authorization decision (iamproxy.CallRecord, JSON Lines).
	CallsFile = "calls.jsonl"
	// GrantsFile records what each function's role grants (iamproxy.FunctionGrants).
	GrantsFile = "grants.json"
)

// startIAM starts the IAM proxy in front of the emulators, with the template's access
// control, and records the functions' grants.
func (l *Local) startIAM() error {
	log, err := iamproxy.CreateCallLog(filepath.Join(l.Config.WorkDir, CallsFile))
	if err != nil {
		return err
	}
	l.iam = &iamproxy.Proxy{Model: l.Stack.Access, Enforce: !l.Config.IAMOff, Calls: log, Log: l.log,
		Upstreams: map[string]string{
			iamproxy.ServiceDynamoDB:       l.dynamo.URL,
			iamproxy.ServiceSQS:            l.queues.URL,
			iamproxy.ServiceSNS:            l.queues.URL,
			iamproxy.ServiceSecretsManager: l.secrets.URL,
		}}
	if l.Config.Faults != nil {
		l.iam.SetFaults(faults.NewInjector(*l.Config.Faults))
	}
	if err := l.iam.Start("127.0.0.1:0"); err != nil {
		_ = log.Close()
		return err
	}
	grants := make([]iamproxy.FunctionGrants, 0, len(l.Stack.Functions))
	for _, fn := range l.Stack.Functions {
		role := l.role(fn)
		grants = append(grants, iamproxy.FunctionGrants{Function: fn.LogicalID, Role: role.ARN, Grants: role.Grants(),
			Managed: role.ManagedPolicies})
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].Function < grants[j].Function })
	if err := iamproxy.WriteGrants(filepath.Join(l.Config.WorkDir, GrantsFile), grants); err != nil {
		return err
	}
	mode := "enforced"
	if l.Config.IAMOff {
		mode = "OFF (PAYHOOK_IAM=off): denied calls go through and are only recorded"
	}
	if p := l.Config.Faults; p != nil {
		l.progress("  faults               %d rules (seed %d) inject failures into the functions' AWS calls; recorded in %s",
			len(p.Rules), p.Seed, filepath.Join(l.Config.WorkDir, CallsFile))
	}
	l.progress("  IAM                  %s, %d roles from the template; calls in %s", mode, len(l.Stack.Access.Roles),
		filepath.Join(l.Config.WorkDir, CallsFile))
	return nil
}

// role is the function's execution role in the model; a role the template does not define
// has no policies, so every call of the function is denied.
func (l *Local) role(fn lambdarie.FunctionSpec) *iamproxy.Role {
	if r, ok := l.Stack.Access.RoleNamed(fn.Role); ok {
		return r
	}
	return &iamproxy.Role{ARN: fn.Role}
}

// credentials gives a function its own access key and points its SDK at the IAM proxy, as
// Lambda gives a function its role's credentials.
func (l *Local) credentials(fn lambdarie.FunctionSpec) (lambdarie.FunctionSpec, iamproxy.Credentials) {
	creds := l.iam.Credentials(iamproxy.Principal{Function: fn.LogicalID, FunctionName: fn.Name, Role: l.role(fn)})
	fn.Env = maps.Clone(fn.Env)
	if fn.Env == nil {
		fn.Env = map[string]string{}
	}
	fn.Env["AWS_ACCESS_KEY_ID"] = creds.AccessKeyID
	fn.Env["AWS_SECRET_ACCESS_KEY"] = creds.SecretAccessKey
	for k := range l.proxyEndpoints().SDKEnv() {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL_") {
			fn.Env[k] = l.iam.URL()
		}
	}
	return fn, creds
}

// proxyEndpoints are the IAM proxy's URL for every service.
func (l *Local) proxyEndpoints() provision.Endpoints {
	u := l.iam.URL()
	return provision.Endpoints{Region: l.Config.Region, DynamoDB: u, Queues: u, SecretsManager: u}
}

// ClientsAs returns SDK clients that call through the IAM proxy as the function (the
// event source mapping's poller uses the function's role, as Lambda does).
func (l *Local) ClientsAs(fn string) (provision.Clients, error) {
	spec, ok := l.Stack.Function(fn)
	if !ok {
		return provision.Clients{}, fmt.Errorf("no function %s", fn)
	}
	_, creds := l.credentials(spec)
	return provision.NewClientsAs(l.proxyEndpoints(), creds.AccessKeyID, creds.SecretAccessKey)
}

// stopIAM stops the proxy and closes the call log.
func (l *Local) stopIAM(ctx context.Context) {
	if l.iam == nil {
		return
	}
	_ = l.iam.Close(ctx)
	_ = l.iam.Calls.Close()
}

// LeastPrivilege writes the least-privilege report of the local run in workDir to w (per
// function: actions used, granted but never used, denied) and returns the functions that
// were denied a call or hold an unused, unjustified grant.
func LeastPrivilege(workDir string, w io.Writer) ([]string, error) {
	grants, err := iamproxy.ReadGrants(filepath.Join(workDir, GrantsFile))
	if err != nil {
		return nil, err
	}
	calls, err := iamproxy.ReadCalls(filepath.Join(workDir, CallsFile))
	if err != nil {
		return nil, err
	}
	reps := iamproxy.BuildReport(grants, calls)
	fmt.Fprintf(w, "Least privilege over the local run in %s (%d calls):\n\n", workDir, len(calls))
	if err := iamproxy.WriteReport(w, reps); err != nil {
		return nil, err
	}
	var unclean []string
	for _, r := range reps {
		if !r.Clean() {
			unclean = append(unclean, r.Function)
		}
	}
	return unclean, nil
}

// InjectFaults makes the IAM proxy inject the failures of plan into the functions' AWS
// calls from now on, in place of the plan the stack started with (nil: none).
func (l *Local) InjectFaults(plan *faults.Plan) {
	if plan == nil {
		l.iam.SetFaults(nil)
		return
	}
	l.iam.SetFaults(faults.NewInjector(*plan))
}
