package provision

import (
	"context"
	"fmt"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/schedule"
)

// TypeRule is an EventBridge rule; a schedule with Lambda targets runs locally
// (internal/localrun/schedule).
const TypeRule = "AWS::Events::Rule"

func init() { register(TypeRule, (*provisioner).rule) }

func (p *provisioner) rule(_ context.Context, r *cfn.Resource) error {
	name, err := p.physicalName(r, "Name", 64, "")
	if err != nil {
		return err
	}
	arn := p.arn("events", "rule/"+name)
	p.res.SetRef(r.LogicalID, name)
	p.res.SetAttr(r.LogicalID, "Arn", arn)
	expr, err := p.res.StringProperty(r, "ScheduleExpression")
	if err != nil {
		return err
	}
	if expr == "" {
		p.unsupported(r.LogicalID, r.Type, "event-pattern rules are not emulated (only schedules are)")
		return nil
	}
	state, err := p.res.StringProperty(r, "State")
	if err != nil {
		return err
	}
	if state != "" && state != "ENABLED" {
		p.unsupported(r.LogicalID, r.Type, "rule state "+state+": not scheduled")
		return nil
	}
	if _, err := schedule.Parse(expr); err != nil {
		return propertyError(r, "ScheduleExpression", err)
	}
	targets, _, err := p.res.Property(r, "Targets")
	if err != nil {
		return err
	}
	for i, t := range cfn.AsList(targets) {
		m := cfn.AsMap(t)
		target := cfn.AsString(m["Arn"])
		f, ok := p.lookupFunction(target)
		if !ok {
			p.unsupported(r.LogicalID, r.Type+" target", fmt.Sprintf("target %s is not a local function", target))
			continue
		}
		for _, k := range []string{"InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig"} {
			if _, ok := m[k]; ok {
				p.unsupported(r.LogicalID, r.Type+" target "+k, "not emulated: the scheduled event is sent as is")
			}
		}
		s := schedule.Schedule{LogicalID: r.LogicalID, Name: name, ARN: arn, Expression: expr,
			Function: f.LogicalID, TargetID: cfn.AsString(m["Id"])}
		if s.TargetID == "" {
			s.TargetID = fmt.Sprintf("Target%d", i)
		}
		if in, ok := m["Input"]; ok {
			s.Input = cfn.AsString(in)
		}
		p.stack.Schedules = append(p.stack.Schedules, s)
	}
	return nil
}
