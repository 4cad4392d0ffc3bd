package cfnrules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/payhook/payhook/internal/iam"
)

var lambdaTypes = []string{"AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version"}

// managedPolicyActions lists the AWS managed policies whose grants matter here, with what
// they allow on every resource.
var managedPolicyActions = map[string][]string{
	"service-role/AWSLambdaSQSQueueExecutionRole": iam.LambdaSQSPollActions,
}

// checkInvokePermissions reports Lambda callers that AWS would refuse: an API Gateway
// integration or an EventBridge rule target without a lambda:InvokeFunction permission for
// exactly the function, alias or version it calls, and an SQS event source whose function
// role may not poll its queue.
func checkInvokePermissions(t *Template) []Finding {
	var out []Finding
	for _, m := range t.LogicalIDs("AWS::ApiGateway::Method") {
		integ, _ := t.Property(m, "Integration").(map[string]any)
		if typ := integ["Type"]; typ != "AWS_PROXY" && typ != "AWS" {
			continue
		}
		target := t.lambdaIDs(integ["Uri"])
		if len(target) == 0 {
			continue
		}
		api := t.ResourceIDs(t.Property(m, "RestApiId"))
		route := fmt.Sprintf("%v/%s", t.Property(m, "HttpMethod"), t.methodPath(t.Property(m, "ResourceId")))
		if !t.permitted(target, "apigateway.amazonaws.com", func(src any) bool { return t.apiSourceMatches(src, api, route) }) {
			out = append(out, Finding{RuleInvoke, fmt.Sprintf("method %s (%s) integrates %s, but no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it from that API and route",
				t.Describe(m), route, t.describeAll(target))})
		}
	}
	for _, rule := range t.LogicalIDs("AWS::Events::Rule") {
		for _, tg := range iam.Values(t.Property(rule, "Targets")) {
			tm, _ := tg.(map[string]any)
			target := t.lambdaIDs(tm["Arn"])
			if len(target) == 0 {
				continue
			}
			if !t.permitted(target, "events.amazonaws.com", func(src any) bool { return slices.Contains(t.ResourceIDs(src), rule) }) {
				out = append(out, Finding{RuleInvoke, fmt.Sprintf("rule %s targets %s, but no AWS::Lambda::Permission lets events.amazonaws.com invoke it for that rule",
					t.Describe(rule), t.describeAll(target))})
			}
		}
	}
	for _, esm := range t.LogicalIDs("AWS::Lambda::EventSourceMapping") {
		if f := t.eventSourceRefused(esm); f != "" {
			out = append(out, Finding{RuleInvoke, f})
		}
	}
	return out
}

// lambdaIDs returns the Lambda functions, aliases and versions a value references.
func (t *Template) lambdaIDs(v any) []string {
	var ids []string
	for _, id := range t.ResourceIDs(v) {
		if slices.Contains(lambdaTypes, t.Resources[id].Type) {
			ids = append(ids, id)
		}
	}
	return ids
}

func (t *Template) describeAll(ids []string) string {
	d := make([]string, len(ids))
	for i, id := range ids {
		d[i] = t.Describe(id)
	}
	return strings.Join(d, ", ")
}

// permitted reports whether a Lambda permission lets principal invoke exactly target, with
// no SourceArn or one that sourceOK accepts.
func (t *Template) permitted(target []string, principal string, sourceOK func(any) bool) bool {
	for _, p := range t.LogicalIDs("AWS::Lambda::Permission") {
		action, _ := t.Property(p, "Action").(string)
		if t.Property(p, "Principal") != principal || !iam.Glob(strings.ToLower(action), "lambda:invokefunction") {
			continue
		}
		if !slices.Equal(t.lambdaIDs(t.Property(p, "FunctionName")), target) {
			continue
		}
		if src := t.Property(p, "SourceArn"); src == nil || sourceOK(src) {
			return true
		}
	}
	return false
}

// methodPath returns the path of an API Gateway resource, following ParentId to the root.
func (t *Template) methodPath(res any) string {
	var parts []string
	for depth := 0; depth < 64; depth++ {
		ids := t.ResourceIDs(res)
		if len(ids) != 1 || t.Resources[ids[0]].Type != "AWS::ApiGateway::Resource" {
			break
		}
		part, _ := t.Property(ids[0], "PathPart").(string)
		parts = append([]string{part}, parts...)
		res = t.Property(ids[0], "ParentId")
	}
	return strings.Join(parts, "/")
}

// apiSourceMatches reports whether a permission's SourceArn
// (arn:...:execute-api:region:account:<api>/<stage>/<METHOD>/<path>) covers route of api.
func (t *Template) apiSourceMatches(src any, api []string, route string) bool {
	if len(api) != 1 || !slices.Contains(t.ResourceIDs(src), api[0]) {
		return false
	}
	s, ok := t.Symbolic(src)
	if !ok {
		return true // it names the API; the rest cannot be rendered
	}
	_, rest, found := strings.Cut(s, "{Ref:"+api[0]+"}/")
	if !found {
		return false
	}
	_, pattern, _ := strings.Cut(rest, "/") // any stage, as the permission's stage segment says
	return iam.Glob(pattern, route)
}

// eventSourceRefused explains why Lambda could not poll an SQS event source mapping's
// queue with its function's role, or returns "".
func (t *Template) eventSourceRefused(esm string) string {
	var queue string
	for _, id := range t.ResourceIDs(t.Property(esm, "EventSourceArn")) {
		if t.Resources[id].Type == "AWS::SQS::Queue" {
			queue = id
		}
	}
	fn := t.functionOf(t.lambdaIDs(t.Property(esm, "FunctionName")))
	if queue == "" || fn == "" {
		return ""
	}
	roles := t.ResourceIDs(t.Property(fn, "Role"))
	if len(roles) != 1 || t.Resources[roles[0]].Type != "AWS::IAM::Role" {
		return "" // a role outside the template
	}
	role := roles[0]
	identity := t.rolePolicies(role)
	var resourcePolicies []any
	for _, qp := range t.LogicalIDs("AWS::SQS::QueuePolicy") {
		for _, q := range iam.Values(t.Property(qp, "Queues")) {
			if slices.Contains(t.ResourceIDs(q), queue) {
				resourcePolicies = append(resourcePolicies, t.Property(qp, "PolicyDocument"))
			}
		}
	}
	ctx := map[string]string{"aws:securetransport": "true"}
	for _, action := range iam.LambdaSQSPollActions {
		req := iam.Request{Role: "{GetAtt:" + role + ".Arn}", Action: action, Resource: "{GetAtt:" + queue + ".Arn}", Context: ctx}
		if t.managedAllows(role, action) {
			continue
		}
		if d := t.Evaluate(identity, req); !d.Allowed {
			return fmt.Sprintf("event source %s: role %s of %s may not %s on queue %s (%s)",
				t.Describe(esm), t.Describe(role), t.Describe(fn), action, t.Describe(queue), d.Why)
		}
		if d := t.Evaluate(resourcePolicies, req); d.ExplicitDeny {
			return fmt.Sprintf("event source %s: the policy of queue %s denies %s to role %s (%s)",
				t.Describe(esm), t.Describe(queue), action, t.Describe(role), d.Why)
		}
	}
	return ""
}

// functionOf resolves a Lambda alias or version to its function.
func (t *Template) functionOf(ids []string) string {
	for depth := 0; depth < 4 && len(ids) == 1; depth++ {
		id := ids[0]
		if t.Resources[id].Type == "AWS::Lambda::Function" {
			return id
		}
		ids = t.lambdaIDs(t.Property(id, "FunctionName"))
	}
	return ""
}

// rolePolicies returns the identity policy documents attached to role in the template.
func (t *Template) rolePolicies(role string) []any {
	var docs []any
	for _, p := range iam.Values(t.Property(role, "Policies")) {
		if m, ok := p.(map[string]any); ok {
			docs = append(docs, m["PolicyDocument"])
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, id := range t.LogicalIDs(typ) {
			if slices.Contains(t.ResourceIDs(t.Property(id, "Roles")), role) {
				docs = append(docs, t.Property(id, "PolicyDocument"))
			}
		}
	}
	for _, arn := range iam.Values(t.Property(role, "ManagedPolicyArns")) {
		if ids := t.ResourceIDs(arn); len(ids) == 1 && t.Resources[ids[0]].Type == "AWS::IAM::ManagedPolicy" {
			docs = append(docs, t.Property(ids[0], "PolicyDocument"))
		}
	}
	return docs
}

// managedAllows reports whether an AWS managed policy attached to role grants action.
func (t *Template) managedAllows(role, action string) bool {
	for _, arn := range iam.Values(t.Property(role, "ManagedPolicyArns")) {
		s, ok := t.Symbolic(arn)
		if !ok {
			continue
		}
		for name, actions := range managedPolicyActions {
			if strings.HasSuffix(s, ":iam::aws:policy/"+name) && slices.Contains(actions, action) {
				return true
			}
		}
	}
	return false
}
