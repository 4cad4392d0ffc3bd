package iamproxy

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/payhook/payhook/internal/iam"
)

// The services the proxy stands in front of, by their SigV4 signing name.
const (
	ServiceDynamoDB       = "dynamodb"
	ServiceSQS            = "sqs"
	ServiceSNS            = "sns"
	ServiceSecretsManager = "secretsmanager"
)

// request is one API request as the proxy authorizes it.
type request struct {
	// service is the signing name; operation the API operation ("TransactWriteItems").
	service, operation string
	// query is true for the query protocol (form body, XML answers): SNS, and SQS's old one.
	query bool
	// calls are the authorization checks the request needs, in order: one per resource for
	// most operations, one per item for DynamoDB transactions, then the KMS calls that
	// using an encrypted resource implies.
	calls []impliedCall
}

// impliedCall is a Call with what it is implied by ("" for the request's own action).
type impliedCall struct {
	Call
	via string
}

// parseRequest reads the operation and its resources from a request to service: the
// X-Amz-Target header and JSON body of the JSON protocols (DynamoDB, SQS, Secrets Manager),
// the Action form field of the query protocol (SNS; SQS before its JSON protocol).
func (m *Model) parseRequest(service string, h http.Header, body []byte) (request, error) {
	req := request{service: service}
	fields := map[string]any{}
	if target := h.Get("X-Amz-Target"); target != "" {
		_, op, ok := strings.Cut(target, ".")
		if !ok {
			return req, fmt.Errorf("X-Amz-Target %q names no operation", target)
		}
		req.operation = op
		if len(body) > 0 {
			if err := json.Unmarshal(body, &fields); err != nil {
				return req, fmt.Errorf("%s %s: body is not JSON: %w", service, op, err)
			}
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, fmt.Errorf("%s: form body: %w", service, err)
		}
		req.query = true
		req.operation = form.Get("Action")
		for k, v := range form {
			fields[k] = v[0]
		}
	}
	if req.operation == "" {
		return req, fmt.Errorf("%s: the request names no operation (no X-Amz-Target, no Action)", service)
	}
	var calls []Call
	switch service {
	case ServiceDynamoDB:
		calls = m.dynamoCalls(req.operation, fields)
	case ServiceSQS:
		calls = []Call{{Action: "sqs:" + sqsAction(req.operation), Resource: m.queueARN(fields)}}
	case ServiceSNS:
		calls = []Call{{Action: "sns:" + strings.TrimSuffix(req.operation, "Batch"), Resource: m.topicARN(fields)}}
	case ServiceSecretsManager:
		calls = []Call{{Action: "secretsmanager:" + req.operation, Resource: m.secretARN(fields)}}
	default:
		return req, fmt.Errorf("service %q is not behind the proxy", service)
	}
	for _, c := range calls {
		req.calls = append(req.calls, impliedCall{Call: c})
		for _, k := range m.kmsCalls(c) {
			req.calls = append(req.calls, impliedCall{Call: k, via: c.Action})
		}
	}
	return req, nil
}

// dynamoCalls maps a DynamoDB operation to its checks: IAM has no action for a transaction
// or a batch as a whole, but one per item's operation (TransactWriteItems) or one per table
// (BatchWriteItem); Query and Scan on an index act on the index's ARN.
func (m *Model) dynamoCalls(op string, f map[string]any) []Call {
	switch op {
	case "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction":
		return nil // PartiQL: IAM authorizes per statement (dynamodb:PartiQL*); not evaluated, so refused
	}
	table := func(name string) string {
		return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", m.Partition, m.Region, m.Account, name)
	}
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		var out []Call
		itemActions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		for _, raw := range iam.Values(f["TransactItems"]) {
			item, _ := raw.(map[string]any)
			for _, kind := range slices.Sorted(maps.Keys(item)) {
				body, _ := item[kind].(map[string]any)
				name, _ := body["TableName"].(string)
				out = append(out, Call{Action: "dynamodb:" + itemActions[kind], Resource: table(name), Context: m.leadingKey(name, body)})
			}
		}
		return out
	case "BatchGetItem", "BatchWriteItem":
		items, _ := f["RequestItems"].(map[string]any)
		var out []Call
		for _, name := range slices.Sorted(maps.Keys(items)) {
			out = append(out, Call{Action: "dynamodb:" + op, Resource: table(name)})
		}
		return out
	}
	name, ok := f["TableName"].(string)
	if !ok {
		return []Call{{Action: "dynamodb:" + op, Resource: "*"}}
	}
	arn := table(name)
	if index, ok := f["IndexName"].(string); ok && (op == "Query" || op == "Scan") {
		return []Call{{Action: "dynamodb:" + op, Resource: arn + "/index/" + index}}
	}
	return []Call{{Action: "dynamodb:" + op, Resource: arn, Context: m.leadingKey(name, f)}}
}

// leadingKey is dynamodb:LeadingKeys of a request on one item of table (or a Query of the
// table by its partition key): the item's partition key value, from Item (a put), Key (a get,
// an update, a delete) or the key condition. None when the request names no single one (a
// Scan, a batch): a statement that requires the key then does not apply, as in AWS.
func (m *Model) leadingKey(table string, f map[string]any) map[string]string {
	attr, ok := m.TableKeys[table]
	if !ok {
		return nil
	}
	for _, field := range []string{"Item", "Key"} {
		if item, ok := f[field].(map[string]any); ok {
			if v, ok := scalar(item[attr]); ok {
				return map[string]string{"dynamodb:leadingkeys": v}
			}
		}
	}
	cond, _ := f["KeyConditionExpression"].(string)
	names, _ := f["ExpressionAttributeNames"].(map[string]any)
	values, _ := f["ExpressionAttributeValues"].(map[string]any)
	for _, part := range strings.Split(cond, " AND ") {
		left, right, ok := strings.Cut(part, "=")
		left, right = strings.TrimSpace(strings.Trim(strings.TrimSpace(left), "()")), strings.TrimSpace(strings.Trim(strings.TrimSpace(right), "()"))
		if n, isName := names[left].(string); isName {
			left = n
		}
		if ok && left == attr {
			if v, ok := scalar(values[right]); ok {
				return map[string]string{"dynamodb:leadingkeys": v}
			}
		}
	}
	return nil
}

// scalar reads a DynamoDB string or number attribute value ({"S": "..."}, {"N": "..."}).
func scalar(v any) (string, bool) {
	av, _ := v.(map[string]any)
	for _, t := range []string{"S", "N", "B"} {
		if s, ok := av[t].(string); ok {
			return s, true
		}
	}
	return "", false
}

// sqsAction is the IAM action of an SQS operation: a batch is authorized as its single form.
func sqsAction(op string) string {
	switch op {
	case "SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		return strings.TrimSuffix(op, "Batch")
	}
	return op
}

// queueARN is the ARN of the queue a request names by QueueUrl (or QueueName).
func (m *Model) queueARN(f map[string]any) string {
	name, _ := f["QueueName"].(string)
	if u, ok := f["QueueUrl"].(string); ok {
		name = u[strings.LastIndex(u, "/")+1:]
	}
	if name == "" {
		return "*"
	}
	if arn, ok := m.Queues[name]; ok {
		return arn
	}
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", m.Partition, m.Region, m.Account, name)
}

func (m *Model) topicARN(f map[string]any) string {
	for _, k := range []string{"TopicArn", "TargetArn"} {
		if s, ok := f[k].(string); ok && s != "" {
			return s
		}
	}
	return "*"
}

// secretARN is the ARN of the secret a request names by SecretId, its name or its ARN.
func (m *Model) secretARN(f map[string]any) string {
	id, _ := f["SecretId"].(string)
	if id == "" {
		return "*"
	}
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	if arn, ok := m.Secrets[id]; ok {
		return arn
	}
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s", m.Partition, m.Region, m.Account, id)
}

// kmsCalls are the KMS permissions that using an encrypted resource requires of the caller,
// as each service documents them: publishing to an encrypted topic or sending to an
// encrypted queue needs kms:GenerateDataKey and kms:Decrypt on its key, receiving needs
// kms:Decrypt, and reading a secret needs kms:Decrypt.
func (m *Model) kmsCalls(c Call) []Call {
	key, ok := m.EncryptedBy[c.Resource]
	if !ok {
		return nil
	}
	var actions []string
	switch strings.ToLower(c.Action) {
	case "sns:publish", "sqs:sendmessage":
		actions = []string{"kms:GenerateDataKey", "kms:Decrypt"}
	case "sqs:receivemessage", "secretsmanager:getsecretvalue":
		actions = []string{"kms:Decrypt"}
	}
	out := make([]Call, 0, len(actions))
	for _, a := range actions {
		out = append(out, Call{Action: a, Resource: key})
	}
	return out
}
