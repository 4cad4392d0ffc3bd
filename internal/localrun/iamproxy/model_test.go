package iamproxy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/payhook/payhook/internal/localrun/iamproxy"
)

func allow(action, resource string) map[string]any {
	return map[string]any{"Effect": "Allow", "Action": action, "Resource": resource}
}

func doc(statements ...any) map[string]any { return map[string]any{"Statement": statements} }

func TestDecideFollowsAWSSameAccountRules(t *testing.T) {
	const (
		role  = "arn:aws:iam::000000000000:role/fn"
		queue = "arn:aws:sqs:us-east-1:000000000000:q"
		key   = "arn:aws:kms:us-east-1:000000000000:key/k"
	)
	m := iamproxy.NewModel("aws", "us-east-1", "000000000000")
	r := &iamproxy.Role{ARN: role, Name: "fn", Policies: []iamproxy.Policy{{Document: doc(
		allow("sqs:SendMessage", queue), allow("kms:GenerateDataKey*", key))}}}
	send := iamproxy.Call{Action: "sqs:SendMessage", Resource: queue}

	assert.True(t, m.Decide(r, send).Allowed, "an identity Allow and no resource policy")
	assert.Contains(t, m.Decide(r, iamproxy.Call{Action: "sqs:DeleteMessage", Resource: queue}).Why,
		"no identity-based policy allows the sqs:DeleteMessage action")

	// A resource policy Deny wins over the identity Allow; its TLS-only Deny does not apply
	// because the SDK's calls reach AWS over TLS.
	m.ResourcePolicies[queue] = []any{doc(map[string]any{"Effect": "Deny", "Principal": "*", "Action": "sqs:*",
		"Resource": queue, "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}})}
	assert.True(t, m.Decide(r, send).Allowed)
	m.ResourcePolicies[queue] = []any{doc(map[string]any{"Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
		"Action": "sqs:Send*", "Resource": queue})}
	assert.Contains(t, m.Decide(r, send).Why, "explicit deny in a resource-based policy")

	// A resource policy naming the role allows without an identity grant.
	m.ResourcePolicies[queue] = []any{doc(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": role},
		"Action": "sqs:ReceiveMessage", "Resource": queue})}
	assert.True(t, m.Decide(r, iamproxy.Call{Action: "sqs:ReceiveMessage", Resource: queue}).Allowed)

	// KMS: the key policy must allow, itself or by delegating to the account's IAM.
	gen := iamproxy.Call{Action: "kms:GenerateDataKey", Resource: key}
	m.KeyPolicies[key] = []any{doc()}
	assert.Contains(t, m.Decide(r, gen).Why, "no resource-based policy allows", "an identity grant alone is not enough")
	m.KeyPolicies[key] = []any{doc(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::000000000000:root"},
		"Action": "kms:*", "Resource": "*"})}
	assert.True(t, m.Decide(r, gen).Allowed, "root delegation plus the identity grant")
	assert.False(t, m.Decide(r, iamproxy.Call{Action: "kms:Decrypt", Resource: key}).Allowed, "delegated, but not granted")
}
