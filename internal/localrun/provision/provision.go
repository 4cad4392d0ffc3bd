// Package provision turns a CloudFormation template into local resources: it creates the
// template's tables, queues, topics, subscriptions and secrets on the emulators behind
// Clients, and resolves everything that runs (Lambda functions, SQS event source
// mappings, EventBridge schedules, REST APIs) into the specifications the runners take.
// The result is a Stack.
//
// Each AWS service has its own file (dynamodb.go, sqs.go, sns.go, secretsmanager.go,
// lambda.go, events.go, apigateway.go) that registers a creator per resource type in its
// init function: adding a resource type is one registration. This file holds the engine:
// it lists every resource without a creator in Stack.Unsupported (unsupported.go says
// why), orders the others so that each comes after what it refers to, and runs their
// creators in that order.
//
// Provisioning knows CloudFormation and AWS only; an application adds its own knowledge
// through Hooks (internal/localrun/payhook is payhook's).
package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
)

// typeOutput is the Unsupported type of a stack output that cannot be resolved.
const typeOutput = "(Output)"

// creator creates, or models when only its effect runs locally, one resource of its type.
type creator func(p *provisioner, ctx context.Context, r *cfn.Resource) error

var (
	// creators holds the creator of every emulated resource type, registered by each
	// service's file.
	creators = map[string]creator{}
	// finishers run once every resource is created, in registration order.
	finishers []func(p *provisioner) error
)

// register makes resources of type typ emulated, created by c.
func register(typ string, c creator) {
	if _, dup := creators[typ]; dup {
		panic("provision: resource type " + typ + " registered twice")
	}
	creators[typ] = c
}

// registerFinisher adds a step run after every resource is created (API Gateway
// assembles its APIs from their parts).
func registerFinisher(f func(p *provisioner) error) { finishers = append(finishers, f) }

// Emulated reports whether resources of the type are created (or modelled) locally.
// Every other type is listed in Stack.Unsupported.
func Emulated(resourceType string) bool {
	_, ok := creators[resourceType]
	return ok
}

// Options adjust provisioning.
type Options struct {
	// Region is AWS::Region (default: the template's region from its cloud assembly,
	// else us-east-1).
	Region string
	// StackName overrides AWS::StackName (default: the template's).
	StackName string
	// APIKeys reuses API key values by the key's logical id (e.g. from the previous
	// run's state file, so a pasted curl keeps working); missing keys are generated.
	APIKeys map[string]string
	// Hooks add an application's knowledge (zero: none).
	Hooks Hooks
}

// Hooks let an application take part in provisioning; a nil hook does nothing.
type Hooks struct {
	// Prepare is called once every emulated resource is known and before any is
	// created; the resolver knows the parameters and pseudo parameters only.
	Prepare func(tmpl *cfn.Template, res *cfn.Resolver) error
	// Function is called for every Lambda function once its specification is resolved.
	// It may fill in spec.Service; a non-empty reason lists the function as unsupported
	// (not run locally) instead of adding it to Stack.Functions.
	Function func(spec *lambdarie.FunctionSpec) (reason string)
	// SecretValue supplies the value of a secret that the template has Secrets Manager
	// generate (GenerateSecretString); ok false generates it as the template says.
	SecretValue func(r *cfn.Resource) (value string, ok bool, err error)
}

// Provision creates the template's tables, queues, topics, subscriptions and secrets on
// the emulators behind clients and resolves everything else that runs (functions, event
// source mappings, schedules, APIs). It is ProvisionWith with default Options.
func Provision(ctx context.Context, tmpl *cfn.Template, clients Clients) (*Stack, error) {
	return ProvisionWith(ctx, tmpl, clients, Options{})
}

// ProvisionWith is Provision with options.
func ProvisionWith(ctx context.Context, tmpl *cfn.Template, clients Clients, opts Options) (*Stack, error) {
	if opts.Region == "" {
		opts.Region = tmpl.Region
	}
	p := &provisioner{
		tmpl:     tmpl,
		clients:  clients,
		opts:     opts,
		res:      cfn.NewResolver(tmpl, opts.Region),
		versions: map[string]int{},
		api:      map[string]*apiParts{},
		apiByID:  map[string]string{},
		keyIDs:   map[string]string{},
		managed:  map[string]iamproxy.Policy{},
	}
	p.res.Emulated = Emulated
	if opts.StackName != "" {
		p.res.StackName = opts.StackName
	}
	p.stack = &Stack{Name: p.res.StackName, Region: p.res.Region, Account: p.res.Account,
		Access: iamproxy.NewModel(p.res.Partition, p.res.Region, p.res.Account)}
	if err := p.run(ctx); err != nil {
		return nil, err
	}
	return p.stack, nil
}

// provisioner provisions one template.
type provisioner struct {
	tmpl    *cfn.Template
	clients Clients
	opts    Options
	res     *cfn.Resolver
	stack   *Stack

	// The services' state while provisioning (see their files).

	// versions counts published versions per function logical id (lambda.go).
	versions map[string]int
	// api collects the API Gateway resources per RestApi logical id (apigateway.go).
	api map[string]*apiParts
	// apiByID maps a RestApi id to its logical id.
	apiByID map[string]string
	// apiAcct holds API keys and usage plans.
	apiAcct *apiAccount
	// keyIDs maps a KMS key's id to its ARN (iam.go).
	keyIDs map[string]string
	// managed holds the template's customer managed policies by ARN (iam.go).
	managed map[string]iamproxy.Policy
}

func (p *provisioner) run(ctx context.Context) error {
	if err := p.clients.ping(ctx); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	emulated, err := p.emulatedResources()
	if err != nil {
		return err
	}
	order, err := p.order(emulated)
	if err != nil {
		return err
	}
	if prepare := p.opts.Hooks.Prepare; prepare != nil {
		if err := prepare(p.tmpl, p.res); err != nil {
			return err
		}
	}
	for _, id := range order {
		r := p.tmpl.Resources[id]
		if err := creators[r.Type](p, ctx, r); err != nil {
			return err
		}
	}
	for _, finish := range finishers {
		if err := finish(p); err != nil {
			return err
		}
	}
	p.outputs()
	return nil
}

// emulatedResources returns the logical ids of the resources to create, and lists the
// others (not created under their condition, or of a type without local emulation) as
// unsupported.
func (p *provisioner) emulatedResources() ([]string, error) {
	var emulated []string
	for _, id := range p.tmpl.LogicalIDs() {
		r := p.tmpl.Resources[id]
		if r.Condition != "" {
			ok, err := p.res.Condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			if !ok {
				p.unsupported(id, r.Type, fmt.Sprintf("not created: condition %s is false", r.Condition))
				continue
			}
		}
		if Emulated(r.Type) {
			emulated = append(emulated, id)
			continue
		}
		p.unsupported(id, r.Type, unsupportedReason(r.Type))
	}
	return emulated, nil
}

// order sorts the emulated resources so that every resource comes after the emulated
// resources it refers to or depends on (dead-letter queues before their queues, secrets
// before the functions whose environment names them...).
func (p *provisioner) order(ids []string) ([]string, error) {
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	deps := map[string][]string{}
	for _, id := range ids {
		r := p.tmpl.Resources[id]
		set := map[string]bool{}
		for _, d := range append(cfn.References(r.Properties), r.DependsOn...) {
			if in[d] && d != id {
				set[d] = true
			}
		}
		for d := range set {
			deps[id] = append(deps[id], d)
		}
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("provision: circular references between %s", strings.Join(append(path, id), " → "))
		}
		state[id] = 1
		ds := deps[id]
		sort.Strings(ds)
		for _, d := range ds {
			if err := visit(d, append(path, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		out = append(out, id)
		return nil
	}
	for _, id := range ids {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outputs resolves the stack outputs against the local resources; an output that cannot
// be resolved is listed, not an error.
func (p *provisioner) outputs() {
	names := make([]string, 0, len(p.tmpl.Outputs))
	for k := range p.tmpl.Outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	p.stack.Outputs = map[string]string{}
	for _, name := range names {
		o := cfn.AsMap(p.tmpl.Outputs[name])
		if c, ok := o["Condition"].(string); ok {
			if v, err := p.res.Condition(c); err == nil && !v {
				continue
			}
		}
		v, err := p.res.ResolveString(o["Value"])
		if err != nil {
			p.unsupported(name, typeOutput, "not resolvable locally: "+err.Error())
			continue
		}
		p.stack.Outputs[name] = v
	}
}

// physicalName returns the resource's name property, or a deterministic name made of the
// stack name and the logical id (CloudFormation appends a random suffix; a stable local
// name keeps URLs the same from run to run), cut to max characters.
func (p *provisioner) physicalName(r *cfn.Resource, prop string, max int, suffix string) (string, error) {
	name, err := p.res.StringProperty(r, prop)
	if err != nil || name != "" {
		return name, err
	}
	name = p.res.StackName + "-" + r.LogicalID
	if len(name)+len(suffix) > max {
		name = name[:max-len(suffix)]
	}
	return name + suffix, nil
}

func (p *provisioner) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", p.res.Partition, service, p.res.Region, p.res.Account, resource)
}

// propertyError is a *cfn.PropertyError about a property of r.
func propertyError(r *cfn.Resource, prop string, err error) error {
	return &cfn.PropertyError{LogicalID: r.LogicalID, Type: r.Type, Property: prop, Err: err}
}
