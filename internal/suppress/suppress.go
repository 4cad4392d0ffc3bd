// Package suppress records accepted findings of payhook's security gates on the resources
// they hold for, never on a whole stack: cdk-nag's (AwsSolutions, PCI DSS 3.2.1) as cdk-nag
// metadata, and AWS Control Tower's proactive controls (cfn-guard rules, internal/guard) as
// cfn-guard's Metadata.guard.SuppressedRules with a reason beside it. A Suppression names the
// CloudFormation types (and a path pattern) of the resources it applies to, so the same
// finding on any other resource still fails the build.
package suppress

import (
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one accepted finding.
type Suppression struct {
	// ID is a cdk-nag rule, e.g. "AwsSolutions-IAM5"; empty when Guard is set.
	ID string
	// Guard is a cfn-guard rule of AWS Control Tower's proactive controls, by its rule name
	// (cfn-guard's convention), e.g. "lambda_inside_vpc_check" for CT.LAMBDA.PR.3.
	Guard string
	// Reason says why the finding is acceptable on these resources; it must be true of each.
	Reason string
	// AppliesTo narrows a cdk-nag finding with several instances (IAM5's "Resource::…") to
	// these strings or *cdknag.RegexAppliesTo; nil accepts every instance.
	AppliesTo []any
	// Types are the CloudFormation types of the resources it applies to (required).
	Types []string
	// Path, when set, must match the resource's construct path.
	Path *regexp.Regexp
}

// GuardMetadataKey is the resource metadata key cfn-guard reads suppressions from.
const GuardMetadataKey = "guard"

func (s Suppression) holdsFor(typ, path string) bool {
	return slices.Contains(s.Types, typ) && (s.Path == nil || s.Path.MatchString(path))
}

// Apply records every suppression on each resource of stack it holds for (not on those of
// stages nested under it); call it once every resource exists.
func Apply(stack awscdk.Stack, list []Suppression) {
	path := *stack.Node().Path()
	for _, child := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		res, ok := child.(awscdk.CfnResource)
		if !ok || !*awscdk.CfnResource_IsCfnResource(child) || *awscdk.Stack_Of(child).Node().Path() != path {
			continue
		}
		var nag []*cdknag.NagPackSuppression
		var rules []string
		reasons := map[string]string{}
		typ, at := *res.CfnResourceType(), *child.Node().Path() // one jsii call each, not one per suppression
		for _, s := range list {
			switch {
			case !s.holdsFor(typ, at):
			case s.Guard != "":
				rules = append(rules, s.Guard)
				reasons[s.Guard] = s.Reason
			default:
				p := &cdknag.NagPackSuppression{Id: jsii.String(s.ID), Reason: jsii.String(s.Reason)}
				if s.AppliesTo != nil {
					at := s.AppliesTo
					p.AppliesTo = &at
				}
				nag = append(nag, p)
			}
		}
		if len(nag) > 0 {
			cdknag.NagSuppressions_AddResourceSuppressions(child, &nag, jsii.Bool(false))
		}
		if len(rules) > 0 {
			addGuard(res, rules, reasons)
		}
	}
}

// addGuard merges rules into the resource's cfn-guard suppressions.
func addGuard(res awscdk.CfnResource, rules []string, reasons map[string]string) {
	existing, _ := res.GetMetadata(jsii.String(GuardMetadataKey)).(map[string]any)
	if existing != nil {
		if old, ok := existing["SuppressedRules"].([]any); ok {
			for _, r := range old {
				if s, ok := r.(string); ok && !slices.Contains(rules, s) {
					rules = append(rules, s)
				}
			}
		}
		if old, ok := existing["Reasons"].(map[string]any); ok {
			for k, v := range old {
				if _, set := reasons[k]; !set {
					reasons[k], _ = v.(string)
				}
			}
		}
	}
	slices.Sort(rules)
	res.AddMetadata(jsii.String(GuardMetadataKey), map[string]any{"SuppressedRules": rules, "Reasons": reasons})
}

// Regex is an appliesTo pattern (cdk-nag's /…/g form).
func Regex(pattern string) *cdknag.RegexAppliesTo {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/" + pattern + "/g")}
}
