// Package bootstrap scopes what the CDK bootstrap of each account may do: the CloudFormation
// execution policy derived from the templates that deploy there (the actions their resource
// types' CloudFormation handlers call, IAM only on the stacks' own roles), and a bootstrap
// template, CDK's own from the pinned CLI, whose deploy and publishing roles trust the
// pipeline's named roles instead of every principal of the pipeline's account.
package bootstrap

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/iam"
)

//go:embed handlers.json
var handlersJSON []byte

// handlers are the actions CloudFormation's handlers call per resource type (handlers.json).
func handlers() (map[string][]string, error) {
	var doc struct {
		Types map[string]struct{ Actions []string } `json:"types"`
	}
	if err := json.Unmarshal(handlersJSON, &doc); err != nil {
		return nil, fmt.Errorf("bootstrap: handlers.json: %w", err)
	}
	out := make(map[string][]string, len(doc.Types))
	for t, v := range doc.Types {
		out[t] = v.Actions
	}
	return out, nil
}

// HandlerActions are the actions CloudFormation's handlers call to create, update and delete
// a resource of type typ; ok is false for a type handlers.json does not list.
func HandlerActions(typ string) (actions []string, ok bool) {
	table, err := handlers()
	if err != nil {
		return nil, false
	}
	actions, ok = table[typ]
	return actions, ok
}

// PassedToService is the service a resource of type typ passes its role to ("" for none).
func PassedToService(typ string) string { return passedTo[typ] }

// Statement is one statement of an IAM policy.
type Statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// passedTo names the service a resource type passes a role to (iam:PassedToService).
var passedTo = map[string]string{
	"AWS::Lambda::Function":            "lambda.amazonaws.com",
	"AWS::ApiGateway::Account":         "apigateway.amazonaws.com",
	"AWS::CodeDeploy::DeploymentGroup": "codedeploy.amazonaws.com",
	"AWS::CodeBuild::Project":          "codebuild.amazonaws.com",
	"AWS::CodePipeline::Pipeline":      "codepipeline.amazonaws.com",
}

// Role actions that take conditions of their own, and the IAM actions on users and groups
// that AWS::IAM::Policy's handler lists but payhook's templates never use (a test refuses a
// policy attached to a user or a group).
var (
	conditionedIAM = []string{"iam:PassRole", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:CreateServiceLinkedRole"}
	unusedIAM      = []string{"Group", "User"}
)

// ExecutionPolicy returns the statements the CloudFormation execution role of account needs
// to create, update and delete every resource of the templates, and nothing else: for each
// service, exactly the actions its resource types' handlers call; IAM only on roles named
// after the stacks (<stack name>-*), attaching only the AWS managed policies the templates
// attach, passing roles only to the services that take them.
func ExecutionPolicy(partition, account string, templates []*cfn.Template) ([]Statement, error) {
	table, err := handlers()
	if err != nil {
		return nil, err
	}
	byService := map[string][]string{}
	var errs []error
	var managed, services, roles []string
	for _, t := range templates {
		roles = appendNew(roles, fmt.Sprintf("arn:%s:iam::%s:role/%s-*", partition, account, t.StackName))
		for _, id := range t.LogicalIDs() {
			r := t.Resources[id]
			actions, ok := table[r.Type]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %s: no handler permissions for %s in pipeline/bootstrap/handlers.json", t.StackName, id, r.Type))
				continue
			}
			for _, a := range actions {
				svc, _, _ := strings.Cut(a, ":")
				byService[svc] = appendNew(byService[svc], a)
			}
			if passesRole(t, r) {
				if s, ok := passedTo[r.Type]; ok {
					services = appendNew(services, s)
				} else {
					errs = append(errs, fmt.Errorf("%s: %s: %s passes a role, but to which service is not known (pipeline/bootstrap/policy.go passedTo)", t.StackName, id, r.Type))
				}
			}
			arns, err := managedPolicies(t, r)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", t.StackName, id, err))
			}
			for _, a := range arns {
				managed = appendNew(managed, a)
			}
			errs = append(errs, checkRoleName(t, id, r)...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return statements(partition, account, byService, roles, managed, services), nil
}

// statements turns the collected actions into the policy's statements, IAM scoped.
func statements(partition, account string, byService map[string][]string, roles, managed, services []string) []Statement {
	var out []Statement
	for _, svc := range sortedKeys(byService) {
		actions := byService[svc]
		if svc != "iam" {
			out = append(out, Statement{Sid: sid(svc), Effect: "Allow", Action: sorted(actions), Resource: []string{"*"}})
			continue
		}
		var plain []string
		for _, a := range actions {
			if !slices.Contains(conditionedIAM, a) && !strings.Contains(a, unusedIAM[0]) && !strings.Contains(a, unusedIAM[1]) {
				plain = append(plain, a)
			}
		}
		out = append(out, Statement{Sid: "StackRoles", Effect: "Allow", Action: sorted(plain), Resource: sorted(roles)})
		if len(managed) > 0 {
			out = append(out, Statement{Sid: "StackRolesManagedPolicies", Effect: "Allow",
				Action: []string{"iam:AttachRolePolicy", "iam:DetachRolePolicy"}, Resource: sorted(roles),
				Condition: map[string]any{"ArnEquals": map[string]any{"iam:PolicyARN": sorted(managed)}}})
		}
		if slices.Contains(actions, "iam:PassRole") {
			out = append(out, Statement{Sid: "PassStackRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: sorted(roles),
				Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": sorted(services)}}})
		}
		if slices.Contains(actions, "iam:CreateServiceLinkedRole") {
			out = append(out, Statement{Sid: "ServiceLinkedRoles", Effect: "Allow", Action: []string{"iam:CreateServiceLinkedRole"},
				Resource: []string{fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/*", partition, account)}})
		}
	}
	return out
}

// passesRole reports whether a resource's properties name a role (of the template, or by ARN):
// CloudFormation then passes that role to the resource's service.
func passesRole(t *cfn.Template, r *cfn.Resource) bool {
	if r.Type == "AWS::IAM::Role" || r.Type == "AWS::IAM::Policy" {
		return false // a role's own definition, or its policy, passes nothing
	}
	rest := map[string]any{}
	for k, v := range r.Properties {
		switch k {
		case "KeyPolicy", "PolicyDocument", "ResourcePolicy": // a principal named in a policy is not passed
		default:
			rest[k] = v
		}
	}
	b, _ := json.Marshal(rest)
	if strings.Contains(string(b), ":role/") {
		return true
	}
	for _, ref := range cfn.ReferencesIn(rest) {
		if role := t.Resources[ref.Target]; role != nil && role.Type == "AWS::IAM::Role" && ref.Attr == "Arn" {
			return true
		}
	}
	return false
}

// managedPolicies returns the ARNs of the AWS managed policies a role attaches, which must
// be literal (a string, or a join of strings and the partition).
func managedPolicies(t *cfn.Template, r *cfn.Resource) ([]string, error) {
	if r.Type != "AWS::IAM::Role" {
		return nil, nil
	}
	var out []string
	for _, v := range iam.Values(r.Properties["ManagedPolicyArns"]) {
		s, ok := t.Symbolic(v)
		if !ok || strings.ContainsAny(s, "{}$") {
			return nil, fmt.Errorf("ManagedPolicyArns: %v is not a literal ARN", v)
		}
		out = append(out, s)
	}
	return out, nil
}

// checkRoleName refuses a role whose explicit name the IAM statements would not cover.
func checkRoleName(t *cfn.Template, id string, r *cfn.Resource) []error {
	if r.Type != "AWS::IAM::Role" {
		return nil
	}
	name, ok := r.Properties["RoleName"].(string)
	if r.Properties["RoleName"] != nil && !ok {
		return []error{fmt.Errorf("%s: %s: RoleName is not a literal", t.StackName, id)}
	}
	if ok && !strings.HasPrefix(name, t.StackName+"-") {
		return []error{fmt.Errorf("%s: %s: role %q is not named after its stack (%s-…): the execution policy manages only those", t.StackName, id, name, t.StackName)}
	}
	return nil
}

func sid(service string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(service, func(r rune) bool { return r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func sorted(list []string) []string { return slices.Sorted(slices.Values(list)) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MaxPolicyChars is IAM's limit on a customer managed policy, in characters (whitespace
// excluded).
const MaxPolicyChars = 6144

// Documents packs statements into as few policy documents as IAM's size limit allows.
func Documents(statements []Statement) ([]map[string]any, error) {
	var docs []map[string]any
	var current []Statement
	flush := func() {
		if len(current) > 0 {
			docs = append(docs, map[string]any{"Version": "2012-10-17", "Statement": current})
			current = nil
		}
	}
	for _, s := range statements {
		if size(append(slices.Clone(current), s)) > MaxPolicyChars {
			flush()
		}
		if size([]Statement{s}) > MaxPolicyChars {
			return nil, fmt.Errorf("bootstrap: statement %s alone exceeds IAM's %d characters", s.Sid, MaxPolicyChars)
		}
		current = append(current, s)
	}
	flush()
	return docs, nil
}

// size is a document's length as IAM counts it: compact JSON.
func size(statements []Statement) int {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return len(b)
}
