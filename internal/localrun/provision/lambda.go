package provision

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/randid"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
)

// Lambda resource types: functions run under the RIE (internal/localrun/lambdarie),
// versions and aliases name them, and SQS event source mappings are polled
// (internal/localrun/sqspoll).
const (
	TypeFunction    = "AWS::Lambda::Function"
	TypeAlias       = "AWS::Lambda::Alias"
	TypeVersion     = "AWS::Lambda::Version"
	TypeEventSource = "AWS::Lambda::EventSourceMapping"
)

func init() {
	register(TypeFunction, (*provisioner).function)
	register(TypeVersion, (*provisioner).version)
	register(TypeAlias, (*provisioner).alias)
	register(TypeEventSource, (*provisioner).eventSource)
}

func (p *provisioner) function(_ context.Context, r *cfn.Resource) error {
	name, err := p.physicalName(r, "FunctionName", 64, "")
	if err != nil {
		return err
	}
	f := lambdarie.FunctionSpec{LogicalID: r.LogicalID, Name: name, ARN: p.arn("lambda", "function:"+name),
		Env: map[string]string{}, Aliases: map[string]string{}}
	f.Runtime, _ = r.Properties["Runtime"].(string)
	if f.Role, err = p.res.StringProperty(r, "Role"); err != nil {
		return err
	}
	// Ref and Arn are known before the environment is resolved.
	p.res.SetRef(r.LogicalID, f.Name)
	p.res.SetAttr(r.LogicalID, "Arn", f.ARN)
	vars, _ := cfn.LookupPath(r.Properties, "Environment.Variables")
	keys := make([]string, 0)
	for k := range cfn.AsMap(vars) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := p.res.StringProperty(r, "Environment.Variables."+k)
		if err != nil {
			return err
		}
		f.Env[k] = v
	}
	if f.MemoryMB, err = p.res.IntProperty(r, "MemorySize", 128); err != nil {
		return err
	}
	secs, err := p.res.IntProperty(r, "Timeout", 3)
	if err != nil {
		return err
	}
	f.Timeout = time.Duration(secs) * time.Second
	if f.ReservedConcurrency, err = p.res.IntProperty(r, "ReservedConcurrentExecutions", 0); err != nil {
		return err
	}
	if hook := p.opts.Hooks.Function; hook != nil {
		if reason := hook(&f); reason != "" {
			p.unsupported(r.LogicalID, r.Type, reason)
			return nil
		}
	}
	p.stack.Functions = append(p.stack.Functions, f)
	p.noteIgnored(r, map[string]string{
		"VpcConfig":        "no VPC locally",
		"Layers":           "layers are not loaded locally",
		"DeadLetterConfig": "asynchronous dead-letter queues are not emulated",
	})
	return nil
}

// lookupFunction maps a resolved function reference to the local function it names.
func (p *provisioner) lookupFunction(ref string) (*lambdarie.FunctionSpec, bool) {
	id, ok := p.stack.ResolveFunction(ref)
	if !ok {
		return nil, false
	}
	for i := range p.stack.Functions {
		if p.stack.Functions[i].LogicalID == id {
			return &p.stack.Functions[i], true
		}
	}
	return nil, false
}

func (p *provisioner) version(_ context.Context, r *cfn.Resource) error {
	fn, err := p.res.StringProperty(r, "FunctionName")
	if err != nil {
		return err
	}
	f, ok := p.lookupFunction(fn)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("version of %s, which is not run locally", fn))
		return nil
	}
	p.versions[f.LogicalID]++
	v := strconv.Itoa(p.versions[f.LogicalID])
	p.res.SetRef(r.LogicalID, f.ARN+":"+v)
	p.res.SetAttr(r.LogicalID, "Version", v)
	p.res.SetAttr(r.LogicalID, "FunctionArn", f.ARN)
	return nil
}

func (p *provisioner) alias(_ context.Context, r *cfn.Resource) error {
	fn, err := p.res.StringProperty(r, "FunctionName")
	if err != nil {
		return err
	}
	name, err := p.res.StringProperty(r, "Name")
	if err != nil {
		return err
	}
	f, ok := p.lookupFunction(fn)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("alias of %s, which is not run locally", fn))
		return nil
	}
	arn := f.ARN + ":" + name
	f.Aliases[name] = arn
	p.res.SetRef(r.LogicalID, arn)
	p.res.SetAttr(r.LogicalID, "AliasArn", arn)
	p.noteIgnored(r, map[string]string{
		"RoutingConfig":                "weighted aliases are not emulated: every call runs the current build",
		"ProvisionedConcurrencyConfig": "provisioned concurrency is not emulated",
	})
	return nil
}

func (p *provisioner) eventSource(_ context.Context, r *cfn.Resource) error {
	src, err := p.res.StringProperty(r, "EventSourceArn")
	if err != nil {
		return err
	}
	fn, err := p.res.StringProperty(r, "FunctionName")
	if err != nil {
		return err
	}
	q, ok := p.stack.Queue(src)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("event source %s is not an SQS queue: not polled locally", src))
		return nil
	}
	f, ok := p.lookupFunction(fn)
	if !ok {
		p.unsupported(r.LogicalID, r.Type, fmt.Sprintf("function %s is not run locally: %s is not polled", fn, q.LogicalID))
		return nil
	}
	enabled, err := p.res.BoolProperty(r, "Enabled", true)
	if err != nil {
		return err
	}
	es := sqspoll.EventSource{LogicalID: r.LogicalID, Function: f.LogicalID,
		Queue: q.LogicalID, QueueURL: q.URL, QueueARN: q.ARN}
	if err := p.eventSourceSettings(r, &es); err != nil {
		return err
	}
	p.res.SetRef(r.LogicalID, randid.UUID())
	if !enabled {
		p.unsupported(r.LogicalID, r.Type, "disabled (Enabled: false): not polled")
		return nil
	}
	p.stack.EventSources = append(p.stack.EventSources, es)
	p.noteIgnored(r, map[string]string{
		"FilterCriteria":          "event filtering is not applied locally: every message is delivered",
		"MetricsConfig":           "no event source metrics locally",
		"DestinationConfig":       "on-failure destinations are not emulated",
		"ProvisionedPollerConfig": "provisioned pollers are not emulated",
	})
	return nil
}

// eventSourceSettings resolves how a mapping batches and reports: batch size, batching
// window, ReportBatchItemFailures and maximum concurrency.
func (p *provisioner) eventSourceSettings(r *cfn.Resource, es *sqspoll.EventSource) error {
	var err error
	if es.BatchSize, err = p.res.IntProperty(r, "BatchSize", 10); err != nil {
		return err
	}
	window, err := p.res.IntProperty(r, "MaximumBatchingWindowInSeconds", 0)
	if err != nil {
		return err
	}
	es.Window = time.Duration(window) * time.Second
	types, _, err := p.res.Property(r, "FunctionResponseTypes")
	if err != nil {
		return err
	}
	for _, t := range cfn.AsList(types) {
		es.ReportBatchItemFailures = es.ReportBatchItemFailures || cfn.AsString(t) == "ReportBatchItemFailures"
	}
	es.MaxConcurrency, err = p.res.IntProperty(r, "ScalingConfig.MaximumConcurrency", 0)
	return err
}
