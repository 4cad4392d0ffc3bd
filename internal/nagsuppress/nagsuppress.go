// Package nagsuppress records accepted cdk-nag findings on the resources they hold for, never
// on a whole stack: a Suppression names the CloudFormation types (and a path pattern) of the
// resources it applies to, so the same finding on any other resource still fails the build.
package nagsuppress

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one accepted finding.
type Suppression struct {
	// ID is the rule, e.g. "AwsSolutions-IAM5".
	ID string
	// Reason says why the finding is acceptable on these resources; it must be true of each.
	Reason string
	// AppliesTo narrows a finding with several instances (IAM5's "Resource::…") to these
	// strings or *cdknag.RegexAppliesTo; nil accepts every instance.
	AppliesTo []any
	// Types are the CloudFormation types of the resources it applies to (required).
	Types []string
	// Path, when set, must match the resource's construct path.
	Path *regexp.Regexp
}

func (s Suppression) holdsFor(typ, path string) bool {
	for _, t := range s.Types {
		if t == typ && (s.Path == nil || s.Path.MatchString(path)) {
			return true
		}
	}
	return false
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
		var found []*cdknag.NagPackSuppression
		typ, at := *res.CfnResourceType(), *child.Node().Path() // one jsii call each, not one per suppression
		for _, s := range list {
			if !s.holdsFor(typ, at) {
				continue
			}
			p := &cdknag.NagPackSuppression{Id: jsii.String(s.ID), Reason: jsii.String(s.Reason)}
			if s.AppliesTo != nil {
				at := s.AppliesTo
				p.AppliesTo = &at
			}
			found = append(found, p)
		}
		if len(found) > 0 {
			cdknag.NagSuppressions_AddResourceSuppressions(child, &found, jsii.Bool(false))
		}
	}
}

// Regex is an appliesTo pattern (cdk-nag's /…/g form).
func Regex(pattern string) *cdknag.RegexAppliesTo {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/" + pattern + "/g")}
}
