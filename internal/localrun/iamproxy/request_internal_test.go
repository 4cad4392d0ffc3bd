package iamproxy

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDynamoCallsCarryTheLeadingKey: each item a DynamoDB request acts on is authorized with
// its partition key as dynamodb:LeadingKeys, as IAM evaluates it; a request that names no
// single key (a Scan, a Query of an index) carries none.
func TestDynamoCallsCarryTheLeadingKey(t *testing.T) {
	m := NewModel("aws", "us-east-1", "000000000000")
	m.TableKeys["t"] = "pk"
	s := func(v string) map[string]any { return map[string]any{"S": v} }
	tests := []struct {
		op   string
		body map[string]any
		want []string // leading key per call, "" for none
	}{
		{"PutItem", map[string]any{"TableName": "t", "Item": map[string]any{"pk": s("TXN#a#1"), "sk": s("TXN")}}, []string{"TXN#a#1"}},
		{"UpdateItem", map[string]any{"TableName": "t", "Key": map[string]any{"pk": s("TOTAL#a#d"), "sk": s("CUR#EUR")}}, []string{"TOTAL#a#d"}},
		{"TransactWriteItems", map[string]any{"TransactItems": []any{
			map[string]any{"Update": map[string]any{"TableName": "t", "Key": map[string]any{"pk": s("TXN#a#1")}}},
			map[string]any{"Put": map[string]any{"TableName": "t", "Item": map[string]any{"pk": s("TOTAL#a#d")}}},
		}}, []string{"TXN#a#1", "TOTAL#a#d"}},
		{"Query", map[string]any{"TableName": "t", "KeyConditionExpression": "#k = :v AND begins_with(sk, :s)",
			"ExpressionAttributeNames": map[string]any{"#k": "pk"}, "ExpressionAttributeValues": map[string]any{":v": s("TXN#a#1"), ":s": s("T")}},
			[]string{"TXN#a#1"}},
		{"Query", map[string]any{"TableName": "t", "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :v",
			"ExpressionAttributeValues": map[string]any{":v": s("OUTBOX#0")}}, []string{""}},
		{"Scan", map[string]any{"TableName": "t"}, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			b, err := json.Marshal(tc.body)
			require.NoError(t, err)
			h := http.Header{}
			h.Set("X-Amz-Target", "DynamoDB_20120810."+tc.op)
			req, err := m.parseRequest(ServiceDynamoDB, h, b)
			require.NoError(t, err)
			var got []string
			for _, c := range req.calls {
				got = append(got, c.Context["dynamodb:leadingkeys"])
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
