package provision

import (
	"fmt"
	"sort"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localstate"
)

// unsupportedReasons explains, per type, why a resource has no local counterpart.
var unsupportedReasons = map[string]string{
	"AWS::Logs::LogGroup":                   "no CloudWatch Logs: function output goes to the local log files",
	"AWS::CloudWatch::Alarm":                "no CloudWatch metrics or alarms locally",
	"AWS::CloudWatch::CompositeAlarm":       "no CloudWatch metrics or alarms locally",
	"AWS::CloudWatch::Dashboard":            "no CloudWatch locally",
	"AWS::KMS::Alias":                       "no KMS locally",
	"AWS::WAFv2::WebACL":                    "no WAF locally: requests are not filtered or rate-limited per IP",
	"AWS::WAFv2::WebACLAssociation":         "no WAF locally",
	"AWS::WAFv2::LoggingConfiguration":      "no WAF locally, so no WAF logs",
	"AWS::CodeDeploy::Application":          "no CodeDeploy locally: the alias always runs the current build",
	"AWS::CodeDeploy::DeploymentGroup":      "no CodeDeploy locally: no canary, no rollback",
	"AWS::Lambda::Permission":               "invoke permissions are not enforced locally",
	"AWS::Lambda::EventInvokeConfig":        "asynchronous invoke settings are not emulated",
	"AWS::ApiGateway::Account":              "API Gateway's account settings (CloudWatch role) have no local effect",
	"AWS::ApiGateway::GatewayResponse":      "custom gateway responses are not emulated: API Gateway's defaults are served",
	"AWS::ApiGateway::Authorizer":           "authorizers are not emulated",
	"AWS::ApiGateway::RequestValidator":     "request validation is not emulated",
	"AWS::ApiGateway::Model":                "request models are not emulated",
	"AWS::CDK::Metadata":                    "CDK metadata only",
	"AWS::CloudFormation::CustomResource":   "custom resources are not run locally",
	"AWS::SecretsManager::RotationSchedule": "secret rotation is not emulated",
	"AWS::XRay::SamplingRule":               "no X-Ray locally, so no sampling",
}

// unsupportedReason says why resources of a type without a creator are not emulated.
func unsupportedReason(typ string) string {
	if reason, ok := unsupportedReasons[typ]; ok {
		return reason
	}
	if strings.HasPrefix(typ, "Custom::") {
		return unsupportedReasons["AWS::CloudFormation::CustomResource"]
	}
	return "no local emulation for this resource type"
}

// Unsupported is a resource, or a setting of an emulated resource, without local effect;
// the state file lists them (localstate.Unsupported, its definition).
type Unsupported = localstate.Unsupported

func (p *provisioner) unsupported(id, typ, reason string) {
	p.stack.Unsupported = append(p.stack.Unsupported, Unsupported{LogicalID: id, Type: typ, Reason: reason})
}

// noteIgnored lists settings of an emulated resource that have no local effect.
func (p *provisioner) noteIgnored(r *cfn.Resource, props map[string]string) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := r.Properties[k]; ok {
			p.unsupported(r.LogicalID, r.Type+" "+k, props[k])
		}
	}
}

// UnsupportedGroup is the Unsupported entries of one type.
type UnsupportedGroup struct {
	Type    string
	Entries []Unsupported
}

// SummarizeUnsupported groups the unsupported list by type, types sorted.
func SummarizeUnsupported(list []Unsupported) []UnsupportedGroup {
	byType := map[string][]Unsupported{}
	for _, u := range list {
		byType[u.Type] = append(byType[u.Type], u)
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	out := make([]UnsupportedGroup, 0, len(types))
	for _, t := range types {
		out = append(out, UnsupportedGroup{Type: t, Entries: byType[t]})
	}
	return out
}

// FormatUnsupported renders the unsupported list once, grouped by type with counts: one
// line per type with its common reason, then the resources whose reason differs.
func FormatUnsupported(list []Unsupported) string {
	if len(list) == 0 {
		return "Everything in the template is emulated.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Not emulated locally (%d):\n", len(list))
	for _, g := range SummarizeUnsupported(list) {
		reasons := map[string][]string{}
		var order []string
		for _, e := range g.Entries {
			if _, ok := reasons[e.Reason]; !ok {
				order = append(order, e.Reason)
			}
			reasons[e.Reason] = append(reasons[e.Reason], e.LogicalID)
		}
		fmt.Fprintf(&b, "  %-40s %3d", g.Type, len(g.Entries))
		if len(order) == 1 {
			fmt.Fprintf(&b, "  %s\n", order[0])
			continue
		}
		b.WriteString("\n")
		for _, r := range order {
			fmt.Fprintf(&b, "      %s: %s\n", strings.Join(reasons[r], ", "), r)
		}
	}
	return b.String()
}
