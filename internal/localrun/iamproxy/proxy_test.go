package iamproxy_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/provision"
)

// The proxy runs in front of the real emulators, with the access control of the payhook
// fixture template as provisioning models it; the callers are SDK clients signing with
// the keys the proxy issued, exactly as the functions do.

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	st    *provision.Stack
	proxy *iamproxy.Proxy
	calls string
}

func start(t *testing.T, enforce bool) *fixture {
	t.Helper()
	st := testenv.Provision(t, "payhook-local-Payments.template.json", provision.Options{})
	e := testenv.Endpoints()
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	log, err := iamproxy.CreateCallLog(path)
	require.NoError(t, err)
	p := &iamproxy.Proxy{Model: st.Access, Enforce: enforce, Calls: log, Upstreams: map[string]string{
		iamproxy.ServiceDynamoDB: e.DynamoDB, iamproxy.ServiceSQS: e.Queues, iamproxy.ServiceSNS: e.Queues,
		iamproxy.ServiceSecretsManager: e.SecretsManager}}
	require.NoError(t, p.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = p.Close(context.Background()); _ = log.Close() })
	return &fixture{st: st, proxy: p, calls: path}
}

// as returns SDK clients that sign as the function (by logical id) through the proxy.
func (f *fixture) as(t *testing.T, fn string) provision.Clients {
	t.Helper()
	spec, ok := f.st.Function(fn)
	require.True(t, ok)
	role, ok := f.st.Access.RoleNamed(spec.Role)
	require.True(t, ok)
	creds := f.proxy.Credentials(iamproxy.Principal{Function: fn, FunctionName: spec.Name, Role: role})
	u := f.proxy.URL()
	c, err := provision.NewClientsAs(provision.Endpoints{Region: "us-east-1", DynamoDB: u, Queues: u, SecretsManager: u},
		creds.AccessKeyID, creds.SecretAccessKey)
	require.NoError(t, err)
	return c
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

const (
	ingest = "IngressHandlerFunctionA0B1C2D3"
	notify = "NotifyFailuresFunctionA0B1C2D3"
)

func TestGrantedCallsGoThroughAndOthersAreRefusedAsAWSRefusesThem(t *testing.T) {
	f := start(t, true)
	ctx := context.Background()
	c := f.as(t, ingest)
	table := f.st.Tables[0].Name
	queue, _ := f.st.Queue("WorkerQueue5D6E7F8A")
	key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "p#1"},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "tx"}}

	_, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key})
	require.NoError(t, err, "ingest may put items")
	got, err := testenv.Clients().DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	require.NoError(t, err)
	assert.NotEmpty(t, got.Item, "the allowed call reached DynamoDB Local")

	_, err = c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue.URL), MessageBody: aws.String("{}")})
	require.NoError(t, err, "ingest may send to the accounting queue")
	_, err = c.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.st.Secrets[0].ARN)})
	require.NoError(t, err, "ingest may read the signing secret")

	_, err = c.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
	require.Error(t, err)
	assert.Equal(t, "AccessDeniedException", apiCode(err))
	assert.Contains(t, err.Error(), "is not authorized to perform: dynamodb:DeleteItem on resource: "+f.st.Tables[0].ARN)
	assert.Contains(t, err.Error(), "because no identity-based policy allows the dynamodb:DeleteItem action")
	got, err = testenv.Clients().DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	require.NoError(t, err)
	assert.NotEmpty(t, got.Item, "the refused delete never reached DynamoDB Local")

	_, err = c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.st.Topics[0].ARN), Message: aws.String("x")})
	assert.Equal(t, "AuthorizationError", apiCode(err), "SNS's own code on its query protocol: %v", err)

	_, err = c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: key}},
		{Delete: &ddbtypes.Delete{TableName: aws.String(table), Key: key}},
	}})
	assert.Equal(t, "AccessDeniedException", apiCode(err), "a transaction is authorized item by item: %v", err)
	assert.Contains(t, err.Error(), "dynamodb:DeleteItem")

	calls, err := iamproxy.ReadCalls(f.calls)
	require.NoError(t, err)
	var denied []string
	for _, r := range calls {
		assert.Equal(t, ingest, r.Function)
		if !r.Allowed {
			denied = append(denied, r.Action)
		}
	}
	assert.Equal(t, []string{"dynamodb:DeleteItem", "sns:Publish", "kms:GenerateDataKey", "kms:Decrypt", "dynamodb:DeleteItem"}, denied,
		"every check is recorded, the KMS ones the encrypted topic implies included")
}

func TestPublishingToAnEncryptedTopicNeedsTheKey(t *testing.T) {
	f := start(t, true)
	ctx := context.Background()
	topic := aws.String(f.st.Topics[0].ARN)
	_, err := f.as(t, notify).SNS.Publish(ctx, &sns.PublishInput{TopicArn: topic, Message: aws.String("alert")})
	require.NoError(t, err, "notify-failures is granted sns:Publish and the key")

	// The same role without its KMS statement: SNS refuses with its KMS code.
	spec, _ := f.st.Function(notify)
	role, _ := f.st.Access.RoleNamed(spec.Role)
	doc := role.Policies[0].Document.(map[string]any)
	var kept []any
	for _, st := range doc["Statement"].([]any) {
		if !assert.ObjectsAreEqual(st.(map[string]any)["Action"], []any{"kms:Decrypt", "kms:GenerateDataKey*"}) {
			kept = append(kept, st)
		}
	}
	require.Len(t, kept, len(doc["Statement"].([]any))-1, "the fixture grants the key in one statement")
	role.Policies[0].Document = map[string]any{"Statement": kept}
	_, err = f.as(t, notify).SNS.Publish(ctx, &sns.PublishInput{TopicArn: topic, Message: aws.String("alert")})
	assert.Equal(t, "KMSAccessDenied", apiCode(err), "%v", err)
	assert.Contains(t, err.Error(), "kms:GenerateDataKey")
}

func TestOffRecordsDeniedCallsAndLetsThemThrough(t *testing.T) {
	f := start(t, false)
	ctx := context.Background()
	_, err := f.as(t, ingest).SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.st.Topics[0].ARN), Message: aws.String("x")})
	require.NoError(t, err, "PAYHOOK_IAM=off forwards the call")
	calls, err := iamproxy.ReadCalls(f.calls)
	require.NoError(t, err)
	require.NotEmpty(t, calls)
	assert.False(t, calls[0].Allowed)
	assert.False(t, calls[0].Enforced)
	assert.Equal(t, "sns:Publish", calls[0].Action)
}

func TestUnknownCallersAreRefused(t *testing.T) {
	f := start(t, true)
	u := f.proxy.URL()
	c, err := provision.NewClientsAs(provision.Endpoints{Region: "us-east-1", DynamoDB: u, Queues: u, SecretsManager: u}, "AKIAUNKNOWN000000000", "x")
	require.NoError(t, err)
	_, err = c.DynamoDB.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	assert.Equal(t, "UnrecognizedClientException", apiCode(err), "%v", err)
}

func TestReportListsUsedUnusedJustifiedAndDenied(t *testing.T) {
	grants := []iamproxy.FunctionGrants{{Function: "Fn", Role: "arn:aws:iam::1:role/r", Grants: []iamproxy.Grant{
		{Action: "dynamodb:GetItem", Resources: []string{"arn:aws:dynamodb:us-east-1:1:table/t"}},
		{Action: "dynamodb:Query", Resources: []string{"arn:aws:dynamodb:us-east-1:1:table/t/index/*"}},
		{Action: "sqs:SendMessage", Resources: []string{"arn:aws:sqs:us-east-1:1:q"}},
		{Action: "xray:Put*", Resources: []string{"*"}, Justification: "X-Ray is not emulated"},
	}}}
	calls := []iamproxy.CallRecord{
		{Function: "Fn", Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:1:table/t", Allowed: true},
		// Query on the table itself does not use the grant on its indexes.
		{Function: "Fn", Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:us-east-1:1:table/t", Allowed: false, Why: "no"},
		{Function: "Fn", Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:us-east-1:1:table/t", Allowed: false, Why: "no"},
		{Function: "Other", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:1:q", Allowed: true},
	}
	reps := iamproxy.BuildReport(grants, calls)
	require.Len(t, reps, 1)
	r := reps[0]
	assert.Equal(t, []string{"dynamodb:GetItem"}, r.Used)
	require.Len(t, r.Unused, 2, "another function's call does not use this one's grant")
	assert.Equal(t, "dynamodb:Query", r.Unused[0].Action)
	assert.Equal(t, "sqs:SendMessage", r.Unused[1].Action)
	require.Len(t, r.Justified, 1)
	require.Len(t, r.Denied, 1)
	assert.Equal(t, 2, r.Denied[0].Count)
	assert.False(t, r.Clean())
}

func TestRequestsWithoutAResourceOrWithPartiQLAreRefused(t *testing.T) {
	f := start(t, true)
	ctx := context.Background()
	c := f.as(t, ingest)
	_, err := c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{}})
	assert.Equal(t, "AccessDeniedException", apiCode(err), "nothing to authorize is refused, not forwarded: %v", err)
	_, err = c.DynamoDB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "` + f.st.Tables[0].Name + `"`)})
	assert.Equal(t, "AccessDeniedException", apiCode(err), "PartiQL is not evaluated locally, so refused: %v", err)

	off := start(t, false)
	_, err = off.as(t, ingest).DynamoDB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "` + off.st.Tables[0].Name + `"`)})
	assert.NotEqual(t, "AccessDeniedException", apiCode(err), "PAYHOOK_IAM=off lets it through: %v", err)
	calls, err := iamproxy.ReadCalls(off.calls)
	require.NoError(t, err)
	require.NotEmpty(t, calls)
	assert.False(t, calls[len(calls)-1].Allowed)
	assert.Contains(t, calls[len(calls)-1].Why, "names no resource to authorize")
}
