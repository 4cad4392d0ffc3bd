package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/iam"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// Access control resource types: nothing is created for them, they are modelled
// (Stack.Access) for the local IAM proxy (internal/localrun/iamproxy) to enforce.
const (
	TypeRole            = "AWS::IAM::Role"
	TypePolicy          = "AWS::IAM::Policy"
	TypeManagedPolicy   = "AWS::IAM::ManagedPolicy"
	TypeQueuePolicy     = "AWS::SQS::QueuePolicy"
	TypeTopicPolicy     = "AWS::SNS::TopicPolicy"
	TypeSecretPolicy    = "AWS::SecretsManager::ResourcePolicy"
	TypeKey             = "AWS::KMS::Key"
	reasonUnresolvable  = "not enforced locally: it cannot be resolved: "
	reasonManagedPolicy = "AWS managed policies are not in the template: their grants do not apply locally (AWSLambdaBasicExecutionRole grants CloudWatch Logs, which is not emulated)"
)

func init() {
	register(TypeRole, (*provisioner).role)
	register(TypePolicy, (*provisioner).policy)
	register(TypeManagedPolicy, (*provisioner).policy)
	register(TypeQueuePolicy, (*provisioner).queuePolicy)
	register(TypeTopicPolicy, (*provisioner).topicPolicy)
	register(TypeSecretPolicy, (*provisioner).secretPolicy)
	register(TypeKey, (*provisioner).key)
}

func (p *provisioner) role(_ context.Context, r *cfn.Resource) error {
	name, err := p.physicalName(r, "RoleName", 64, "")
	if err != nil {
		return err
	}
	path, err := p.res.StringProperty(r, "Path")
	if err != nil {
		return err
	}
	if path == "" {
		path = "/"
	}
	role := &iamproxy.Role{LogicalID: r.LogicalID, Name: name,
		ARN: fmt.Sprintf("arn:%s:iam::%s:role%s%s", p.res.Partition, p.res.Account, path, name)}
	p.stack.Access.Roles[role.ARN] = role
	p.res.SetRef(r.LogicalID, name)
	p.res.SetAttr(r.LogicalID, "Arn", role.ARN)
	p.res.SetAttr(r.LogicalID, "RoleId", "AROA"+strings.ToUpper(randid.Hex(8)))
	inline, _, err := p.res.Property(r, "Policies")
	if err != nil {
		return err
	}
	for i, raw := range cfn.AsList(inline) {
		m := cfn.AsMap(raw)
		doc := p.statements(r, fmt.Sprintf("Policies[%d]", i), m["PolicyDocument"])
		role.Policies = append(role.Policies, iamproxy.Policy{Name: r.LogicalID + "/" + cfn.AsString(m["PolicyName"]), Document: doc})
	}
	managed, _, err := p.res.Property(r, "ManagedPolicyArns")
	if err != nil {
		return err
	}
	aws := false
	for _, m := range cfn.AsList(managed) {
		arn := cfn.AsString(m)
		if pol, ok := p.managed[arn]; ok {
			role.Policies = append(role.Policies, pol) // a customer managed policy of the template
			continue
		}
		role.ManagedPolicies = append(role.ManagedPolicies, arn)
		aws = true
	}
	if aws {
		p.unsupported(r.LogicalID, r.Type+" ManagedPolicyArns", reasonManagedPolicy)
	}
	p.noteIgnored(r, map[string]string{
		"PermissionsBoundary": "permissions boundaries are not enforced locally"})
	return nil
}

// policy attaches an AWS::IAM::Policy (or a customer managed AWS::IAM::ManagedPolicy, by its
// Roles property) to its roles, with the grants its metadata justifies
// (iam.UnexercisedGrantsMetadata).
func (p *provisioner) policy(_ context.Context, r *cfn.Resource) error {
	doc := p.statements(r, "PolicyDocument", r.Properties["PolicyDocument"])
	justified := map[string]string{}
	for action, why := range cfn.AsMap(r.Metadata[iam.UnexercisedGrantsMetadata]) {
		justified[action] = cfn.AsString(why)
	}
	roles, _, err := p.res.Property(r, "Roles")
	if err != nil {
		return err
	}
	for _, raw := range cfn.AsList(roles) {
		name := cfn.AsString(raw)
		arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", p.res.Partition, p.res.Account, name)
		for a, role := range p.stack.Access.Roles {
			if role.Name == name {
				arn = a
			}
		}
		if err := p.stack.Access.AddPolicy(arn, iamproxy.Policy{Name: r.LogicalID, Document: doc, Justified: justified}); err != nil {
			p.unsupported(r.LogicalID, r.Type, reasonUnresolvable+err.Error())
		}
	}
	if r.Type == TypeManagedPolicy {
		// A customer managed policy of the template: referred to by its ARN.
		name, err := p.physicalName(r, "ManagedPolicyName", 128, "")
		if err != nil {
			return err
		}
		arn := fmt.Sprintf("arn:%s:iam::%s:policy/%s", p.res.Partition, p.res.Account, name)
		p.managed[arn] = iamproxy.Policy{Name: r.LogicalID, Document: doc, Justified: justified}
		p.res.SetRef(r.LogicalID, arn)
	} else {
		p.res.SetRef(r.LogicalID, r.LogicalID)
	}
	p.noteIgnored(r, map[string]string{"Users": "IAM users do not exist locally", "Groups": "IAM groups do not exist locally"})
	return nil
}

// statements resolves a policy document statement by statement. An Allow that cannot be
// resolved (it names a resource that is not emulated) is left out and listed: fewer grants
// can only refuse more. A Deny that cannot be resolved is kept, widened to every resource
// and without its condition, so that nothing AWS would refuse is allowed locally.
func (p *provisioner) statements(r *cfn.Resource, prop string, raw any) map[string]any {
	doc := map[string]any{}
	var kept []any
	for i, st := range cfn.AsList(cfn.AsMap(raw)["Statement"]) {
		v, err := p.res.Resolve(st)
		if err == nil {
			kept = append(kept, v)
			continue
		}
		where := fmt.Sprintf("%s %s.Statement[%d]", r.Type, prop, i)
		m := cfn.AsMap(st)
		if m["Effect"] != "Deny" {
			p.unsupported(r.LogicalID, where, reasonUnresolvable+err.Error())
			continue
		}
		wide := map[string]any{"Effect": "Deny", "Resource": "*"}
		for _, k := range []string{"Action", "NotAction", "Principal"} {
			if x, ok := m[k]; ok {
				var rerr error
				if wide[k], rerr = p.res.Resolve(x); rerr != nil {
					wide[k] = "*"
				}
			}
		}
		kept = append(kept, wide)
		p.unsupported(r.LogicalID, where, "a Deny that cannot be resolved is enforced on every resource, without its condition: "+err.Error())
	}
	doc["Statement"] = kept
	return doc
}

func (p *provisioner) queuePolicy(_ context.Context, r *cfn.Resource) error {
	return p.resourcePolicy(r, "Queues", func(url string) string {
		for _, q := range p.stack.Queues {
			if q.URL == url {
				return q.ARN
			}
		}
		return ""
	})
}

func (p *provisioner) topicPolicy(_ context.Context, r *cfn.Resource) error {
	return p.resourcePolicy(r, "Topics", func(arn string) string { return arn })
}

// resourcePolicy attaches a queue or topic policy's document to each resource its targets
// property names (arnOf turns a name into the resource's ARN, "" when it is not emulated).
func (p *provisioner) resourcePolicy(r *cfn.Resource, targets string, arnOf func(string) string) error {
	doc := p.statements(r, "PolicyDocument", r.Properties["PolicyDocument"])
	list, _, err := p.res.Property(r, targets)
	if err != nil {
		return err
	}
	for _, t := range cfn.AsList(list) {
		if arn := arnOf(cfn.AsString(t)); arn != "" {
			p.stack.Access.ResourcePolicies[arn] = append(p.stack.Access.ResourcePolicies[arn], doc)
		}
	}
	p.res.SetRef(r.LogicalID, r.LogicalID)
	return nil
}

func (p *provisioner) secretPolicy(_ context.Context, r *cfn.Resource) error {
	doc := p.statements(r, "ResourcePolicy", r.Properties["ResourcePolicy"])
	arn, err := p.res.StringProperty(r, "SecretId")
	if err != nil {
		return err
	}
	if byName, ok := p.stack.Access.Secrets[arn]; ok {
		arn = byName
	}
	p.stack.Access.ResourcePolicies[arn] = append(p.stack.Access.ResourcePolicies[arn], doc)
	p.res.SetRef(r.LogicalID, arn)
	return nil
}

// key models a customer managed KMS key: its policy is enforced on the callers of what it
// encrypts; the data itself is not encrypted locally.
func (p *provisioner) key(_ context.Context, r *cfn.Resource) error {
	id := randid.UUID()
	arn := p.arn("kms", "key/"+id)
	p.stack.Access.KeyPolicies[arn] = []any{p.statements(r, "KeyPolicy", r.Properties["KeyPolicy"])}
	p.keyIDs[id] = arn
	p.res.SetRef(r.LogicalID, id)
	p.res.SetAttr(r.LogicalID, "Arn", arn)
	p.res.SetAttr(r.LogicalID, "KeyId", id)
	p.unsupported(r.LogicalID, r.Type+" encryption", "no KMS locally: data at rest is not encrypted (the key policy is enforced on callers)")
	return nil
}

// encryptedBy records that the key a property names (by ARN or key id) encrypts the
// resource. An AWS managed key (alias/aws/...) needs no caller permission. A key the local
// stack does not model (an alias of the template, another account's key) is listed: its
// permissions are not checked locally.
func (p *provisioner) encryptedBy(r *cfn.Resource, prop, resourceARN string) {
	v, ok, err := p.res.Property(r, prop)
	if err != nil || !ok {
		if err != nil {
			p.unsupported(r.LogicalID, r.Type+" "+prop, "the key's permissions are not checked locally: "+err.Error())
		}
		return
	}
	key := cfn.AsString(v)
	if arn, byID := p.keyIDs[key]; byID {
		key = arn
	}
	if _, modelled := p.stack.Access.KeyPolicies[key]; modelled {
		p.stack.Access.EncryptedBy[resourceARN] = key
		return
	}
	if !strings.HasPrefix(key, "alias/aws/") {
		p.unsupported(r.LogicalID, r.Type+" "+prop, "key "+key+" is not a key of the template: its permissions are not checked locally")
	}
}
