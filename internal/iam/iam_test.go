package iam

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doc parses a policy document.
func doc(t *testing.T, statements string) any {
	t.Helper()
	var d any
	require.NoError(t, json.Unmarshal([]byte(`{"Version":"2012-10-17","Statement":`+statements+`}`), &d))
	return d
}

const (
	table = "arn:aws:dynamodb:us-east-1:111111111111:table/payhook-prod"
	role  = "arn:aws:iam::111111111111:role/ingest"
)

func put(resource string, ctx map[string]string) Request {
	return Request{Role: role, Action: "dynamodb:PutItem", Resource: resource, Context: ctx}
}

// TestEvaluationOrder follows AWS's documented policy evaluation logic for one account:
// an explicit Deny overrides any Allow, an Allow is needed, and the default is deny.
func TestEvaluationOrder(t *testing.T) {
	allow := `{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"` + table + `"}`
	for _, c := range []struct {
		name, statements string
		allowed          bool
		why              string
	}{
		{"implicit deny", `[]`, false, "no statement allows it"},
		{"allow", `[` + allow + `]`, true, ""},
		{"deny over allow", `[` + allow + `,{"Sid":"Stop","Effect":"Deny","Action":"dynamodb:*","Resource":"*"}]`, false, `statement "Stop" denies it`},
		{"action wildcard and case", `[{"Effect":"Allow","Action":"DynamoDB:Put*","Resource":"` + table + `"}]`, true, ""},
		{"resource wildcard", `[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:*:111111111111:table/payhook-*"}]`, true, ""},
		{"resource of another table", `[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:*:*:table/other"}]`, false, "no statement allows it"},
		{"NotAction allows all but", `[{"Effect":"Allow","NotAction":"dynamodb:DeleteItem","Resource":"*"}]`, true, ""},
		{"NotAction excludes it", `[{"Effect":"Allow","NotAction":["dynamodb:Put*"],"Resource":"*"}]`, false, "no statement allows it"},
		{"NotResource", `[{"Effect":"Allow","Action":"*","NotResource":"` + table + `"}]`, false, "no statement allows it"},
		{"deny with NotAction", `[` + allow + `,{"Sid":"OnlyReads","Effect":"Deny","NotAction":"dynamodb:Get*","Resource":"*"}]`, false, `statement "OnlyReads" denies it`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Evaluator{}.Evaluate([]any{doc(t, c.statements)}, put(table, nil))
			assert.Equal(t, c.allowed, d.Allowed)
			assert.Contains(t, d.Why, c.why)
		})
	}
}

// TestConditionsInStatements: aws:SecureTransport and aws:SourceArn as the templates use
// them, and a statement whose condition key the request lacks.
func TestConditionsInStatements(t *testing.T) {
	tlsOnly := `{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	allowQueue := `{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sqs:SendMessage","Resource":"*"}`
	send := Request{Role: role, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111111111111:q"}
	ev := Evaluator{}
	send.Context = map[string]string{"aws:securetransport": "false"}
	assert.Equal(t, `statement "TLS" denies it`, ev.Evaluate([]any{doc(t, `[`+allowQueue+`,`+tlsOnly+`]`)}, send).Why)
	send.Context = map[string]string{"aws:securetransport": "true"}
	assert.True(t, ev.Evaluate([]any{doc(t, `[`+allowQueue+`,`+tlsOnly+`]`)}, send).Allowed)

	fromAlarms := `{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*",
		"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-1:111111111111:alarm:*"}}}`
	publish := Request{Service: "cloudwatch.amazonaws.com", Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:111111111111:alerts",
		Context: map[string]string{"aws:sourcearn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:ingest-errors"}}
	assert.True(t, ev.Evaluate([]any{doc(t, `[`+fromAlarms+`]`)}, publish).Allowed)
	publish.Context["aws:sourcearn"] = "arn:aws:cloudwatch:us-east-1:222222222222:alarm:x"
	assert.False(t, ev.Evaluate([]any{doc(t, `[`+fromAlarms+`]`)}, publish).Allowed, "another account's alarm")
	publish.Context = nil
	assert.False(t, ev.Evaluate([]any{doc(t, `[`+fromAlarms+`]`)}, publish).Allowed, "a condition key the request lacks: the Allow does not apply")
	publish.Service = "events.amazonaws.com"
	publish.Context = map[string]string{"aws:sourcearn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:x"}
	assert.False(t, ev.Evaluate([]any{doc(t, `[`+fromAlarms+`]`)}, publish).Allowed, "another service")
}

func TestUnevaluableStatementsRefuse(t *testing.T) {
	d := Evaluator{}.Evaluate([]any{doc(t, `[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]`)}, put(table, nil))
	assert.False(t, d.Allowed)
	assert.Contains(t, d.Why, "DateGreaterThan is not evaluated")
	d = Evaluator{}.Evaluate([]any{doc(t, `[{"Effect":"Allow","Action":"*","Resource":{"Fn::If":["C","a","b"]}}]`)}, put(table, nil))
	assert.False(t, d.Allowed)
	assert.Contains(t, d.Why, "cannot be evaluated")
	d = Evaluator{}.Evaluate([]any{doc(t, `[{"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"*","Resource":"*"}]`)}, put(table, nil))
	assert.Contains(t, d.Why, "NotPrincipal is not evaluated")
}

func TestConditions(t *testing.T) {
	tmpl := Evaluator{}
	ctx := map[string]string{"aws:sourceaccount": "111111111111", "aws:securetransport": "true"}
	for _, c := range []struct {
		cond string
		want bool
	}{
		{`{"StringEquals":{"aws:SourceAccount":"111111111111"}}`, true},
		{`{"StringEquals":{"aws:SourceAccount":["222222222222","111111111111"]}}`, true},
		{`{"StringEquals":{"aws:SourceAccount":"222222222222"}}`, false},
		{`{"StringEquals":{"aws:SourceArn":"x"}}`, false},                                                       // key absent: no match
		{`{"StringNotEquals":{"aws:SourceArn":"x"}}`, true},                                                     // negated, key absent: true
		{`{"StringEqualsIfExists":{"aws:SourceArn":"x"}}`, true},                                                // IfExists, key absent: true
		{`{"Null":{"aws:SourceArn":"true"}}`, true},                                                             // absent
		{`{"Null":{"aws:SourceAccount":"true"}}`, false},                                                        // present
		{`{"Bool":{"aws:SecureTransport":"false"}}`, false},                                                     // the TLS deny does not apply over TLS
		{`{"StringLike":{"aws:SourceAccount":"1111*"}}`, true},                                                  // wildcard
		{`{"StringNotLike":{"aws:SourceAccount":"1111*"}}`, false},                                              // negated wildcard
		{`{"StringEquals":{"aws:SourceAccount":"111111111111"},"Bool":{"aws:SecureTransport":"false"}}`, false}, // AND
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":"x"}}`, true},                                             // empty set: all match
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":"x"}}`, false},                                             // empty set: none matches
		{`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"x"}}`, false},                                          // even negated
	} {
		var cond map[string]any
		require.NoError(t, json.Unmarshal([]byte(c.cond), &cond))
		got, err := tmpl.conditionHolds(cond, ctx)
		require.NoError(t, err, c.cond)
		assert.Equal(t, c.want, got, c.cond)
	}
	_, err := tmpl.conditionHolds(map[string]any{"IpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}}, ctx)
	assert.ErrorContains(t, err, "IpAddress is not evaluated")
	_, err = tmpl.conditionHolds(map[string]any{"NumericLessThan": map[string]any{"aws:MultiFactorAuthAge": "3600"}}, ctx)
	assert.ErrorContains(t, err, "NumericLessThan is not evaluated", "an unknown operator is an error even when its key is absent")
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, value string
		want           bool
	}{
		{"*", "", true}, {"kms:GenerateDataKey*", "kms:GenerateDataKey", true}, {"kms:GenerateDataKey*", "kms:Decrypt", false},
		{"arn:aws:cloudwatch:*:1:alarm:*", "arn:aws:cloudwatch:eu-west-1:1:alarm:x", true}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*/POST/hooks", "v1/POST/hooks", true}, {"a*b*c", "aXbYbZc", true}, {"a*b", "aXbY", false},
		{"a*c", "a*bc", true}, {"a*", "a*", true},
	} {
		assert.Equal(t, c.want, Glob(c.pattern, c.value), "%s ~ %s", c.pattern, c.value)
	}
}

func TestADenyNamingTheAccountAppliesToItsRoles(t *testing.T) {
	role := "arn:aws:iam::111122223333:role/fn"
	req := Request{Role: role, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:q"}
	for _, p := range []string{"111122223333", "arn:aws:iam::111122223333:root"} {
		deny := map[string]any{"Statement": []any{
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": role}, "Action": "sqs:*", "Resource": "*"},
			map[string]any{"Effect": "Deny", "Principal": map[string]any{"AWS": p}, "Action": "sqs:SendMessage", "Resource": "*"},
		}}
		d := Evaluator{}.Evaluate([]any{deny}, req)
		assert.False(t, d.Allowed, p)
		assert.True(t, d.ExplicitDeny, p)
		// An Allow naming the account only delegates to IAM: it does not allow the role here.
		allow := map[string]any{"Statement": []any{
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": p}, "Action": "sqs:*", "Resource": "*"}}}
		assert.False(t, Evaluator{}.Evaluate([]any{allow}, req).Allowed, p)
	}
	other := map[string]any{"Statement": []any{
		map[string]any{"Effect": "Deny", "Principal": map[string]any{"AWS": "444455556666"}, "Action": "*", "Resource": "*"},
		map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": role}, "Action": "*", "Resource": "*"}}}
	assert.True(t, Evaluator{}.Evaluate([]any{other}, req).Allowed, "another account's Deny does not apply")
}
