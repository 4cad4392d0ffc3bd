package iamproxy

import (
	"fmt"
	"strings"

	"github.com/payhook/payhook/internal/iam"
)

// Model is a template's access control, resolved to local values (every ARN as the local
// stack names it): each role's identity policies, the resource policies payhook creates
// (queue, topic, secret), the key policies, and which resources a KMS key encrypts.
type Model struct {
	// Partition, Region and Account are the stack's pseudo parameters.
	Partition, Region, Account string
	// Roles are the template's roles by ARN.
	Roles map[string]*Role
	// ResourcePolicies are the policy documents attached to a resource, by its ARN.
	ResourcePolicies map[string][]any
	// KeyPolicies are the customer managed keys' policies, by key ARN.
	KeyPolicies map[string][]any
	// EncryptedBy maps a resource ARN (topic, queue, secret) to the ARN of the customer
	// managed key that encrypts it.
	EncryptedBy map[string]string
	// Secrets maps a secret's name to its ARN (SecretId may be either).
	Secrets map[string]string
	// Queues maps a queue's name to its ARN (as the queue emulator reports it).
	Queues map[string]string
	// TableKeys maps a table's name to the name of its partition key attribute, whose value
	// a request's items carry as dynamodb:LeadingKeys.
	TableKeys map[string]string
}

// NewModel returns an empty model of a stack.
func NewModel(partition, region, account string) *Model {
	return &Model{Partition: partition, Region: region, Account: account, Roles: map[string]*Role{},
		ResourcePolicies: map[string][]any{}, KeyPolicies: map[string][]any{}, EncryptedBy: map[string]string{},
		Secrets: map[string]string{}, Queues: map[string]string{}, TableKeys: map[string]string{}}
}

// Role is one IAM role of the template.
type Role struct {
	// LogicalID and ARN name the role; Name is its RoleName.
	LogicalID, Name, ARN string
	// Policies are its identity policies (inline and AWS::IAM::Policy), resolved.
	Policies []Policy
	// ManagedPolicies are the ARNs of the managed policies it names; their documents are not
	// in the template, so their grants are not applied locally.
	ManagedPolicies []string
}

// Policy is one identity policy of a role.
type Policy struct {
	// Name is the logical id of the AWS::IAM::Policy, or "<role>/<PolicyName>" inline.
	Name string
	// Document is the resolved policy document.
	Document any
	// Justified maps an action this policy grants to why a local run cannot exercise it
	// (from the iam.UnexercisedGrantsMetadata metadata).
	Justified map[string]string
}

// AddPolicy attaches an identity policy to the role with the ARN; a role the template does
// not define is an error.
func (m *Model) AddPolicy(roleARN string, p Policy) error {
	r, ok := m.Roles[roleARN]
	if !ok {
		return fmt.Errorf("policy %s: role %s is not in the template", p.Name, roleARN)
	}
	r.Policies = append(r.Policies, p)
	return nil
}

// Call is one authorization question: may the role perform the action on the resource.
type Call struct {
	// Action is the IAM action, e.g. "sqs:SendMessage".
	Action string
	// Resource is the ARN acted on ("*" for actions without a resource, e.g. ListTables).
	Resource string
	// Context holds the request's service-specific condition keys, by lower-case name
	// (dynamodb:leadingkeys: the partition key of the item acted on).
	Context map[string]string
}

// Decision is the outcome of a Call.
type Decision struct {
	Allowed bool
	// Why is AWS's explanation of a refusal: "no identity-based policy allows the
	// sqs:SendMessage action", "with an explicit deny in a resource-based policy", ...
	Why string
}

// Decide evaluates a call by a role, as AWS does within one account: an explicit Deny in
// the role's identity policies or the resource's policy refuses; otherwise an Allow in
// either allows. A KMS key is the exception: its key policy must allow the role, or allow
// the account (its root principal), in which case the identity policies must allow too.
// Every request is taken to arrive over TLS (aws:SecureTransport true), as the SDK's
// calls to AWS do; the local endpoints are plain HTTP on loopback.
func (m *Model) Decide(role *Role, c Call) Decision {
	req := iam.Request{Role: role.ARN, Action: c.Action, Resource: c.Resource, Context: map[string]string{
		"aws:securetransport":       "true",
		"aws:principalarn":          role.ARN,
		"aws:principalaccount":      m.Account,
		"aws:principaltype":         "AssumedRole",
		"aws:requestedregion":       m.Region,
		"aws:viaawsservice":         "false",
		"aws:principalisawsservice": "false",
	}}
	for k, v := range c.Context {
		req.Context[k] = v
	}
	var ev iam.Evaluator
	docs := make([]any, 0, len(role.Policies))
	for _, p := range role.Policies {
		docs = append(docs, p.Document)
	}
	identity := ev.Evaluate(docs, req)
	if identity.ExplicitDeny {
		return Decision{Why: "with an explicit deny in an identity-based policy (" + identity.Why + ")"}
	}
	if key, ok := m.KeyPolicies[c.Resource]; ok {
		return m.decideKey(key, req, identity)
	}
	resource := Decision{}
	if rp, ok := m.ResourcePolicies[c.Resource]; ok {
		d := ev.Evaluate(rp, req)
		if d.ExplicitDeny {
			return Decision{Why: "with an explicit deny in a resource-based policy (" + d.Why + ")"}
		}
		resource.Allowed = d.Allowed
	}
	if identity.Allowed || resource.Allowed {
		return Decision{Allowed: true}
	}
	return Decision{Why: "because no identity-based policy allows the " + c.Action + " action"}
}

// decideKey applies a key policy: it allows the role itself, or delegates to IAM by
// allowing the account's root principal.
func (m *Model) decideKey(key []any, req iam.Request, identity iam.Decision) Decision {
	var ev iam.Evaluator
	direct := ev.Evaluate(key, req)
	if direct.ExplicitDeny {
		return Decision{Why: "with an explicit deny in a resource-based policy (" + direct.Why + ")"}
	}
	if direct.Allowed {
		return Decision{Allowed: true}
	}
	root := req
	root.Role = fmt.Sprintf("arn:%s:iam::%s:root", m.Partition, m.Account)
	if ev.Evaluate(key, root).Allowed {
		if identity.Allowed {
			return Decision{Allowed: true}
		}
		return Decision{Why: "because no identity-based policy allows the " + req.Action + " action"}
	}
	return Decision{Why: "because no resource-based policy allows the " + req.Action + " action"}
}

// Grant is one action an identity policy allows, with its resources.
type Grant struct {
	// Action is the action pattern as the policy writes it (it may hold wildcards).
	Action string
	// Resources are the statement's resource patterns.
	Resources []string
	// Policy names the policy; Justification is why a local run cannot exercise it ("" when
	// it should be).
	Policy, Justification string
}

// Grants lists the actions the role's identity policies allow, in policy order, one entry
// per action and statement.
func (r *Role) Grants() []Grant {
	var out []Grant
	for _, p := range r.Policies {
		doc, _ := p.Document.(map[string]any)
		for _, raw := range iam.Values(doc["Statement"]) {
			st, _ := raw.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			var resources []string
			for _, res := range iam.Values(st["Resource"]) {
				if s, ok := res.(string); ok {
					resources = append(resources, s)
				}
			}
			for _, a := range iam.Values(st["Action"]) {
				action, _ := a.(string)
				out = append(out, Grant{Action: action, Resources: resources, Policy: p.Name, Justification: p.Justified[action]})
			}
		}
	}
	return out
}

// RoleNamed returns the role with the ARN.
func (m *Model) RoleNamed(arn string) (*Role, bool) {
	r, ok := m.Roles[arn]
	return r, ok
}

// sessionARN is the assumed-role ARN AWS names in an AccessDenied message for a function.
func (m *Model) sessionARN(role *Role, function string) string {
	name := role.Name
	if name == "" {
		name = role.ARN[strings.LastIndex(role.ARN, "/")+1:]
	}
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", m.Partition, m.Account, name, function)
}
