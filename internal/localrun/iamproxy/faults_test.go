package iamproxy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
)

// once is a plan injecting kind into the first call of service:action.
func once(service, action string, kind faults.Kind) faults.Plan {
	return faults.Plan{Seed: 1, Rules: []faults.Rule{{Service: service, Action: action, Kind: kind, Every: 1, Times: 1, LatencyMs: 300}}}
}

// classified is how the SDK's default retryer sees an error: retryable, and a throttle.
func classified(err error) (retryable, throttle bool) {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool(),
		retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
}

func noRetry(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

func item(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: id},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "tx"}}
}

// TestInjectedFaultsAreAnsweredAsAWSAnswers: each kind reaches the SDK as AWS's own failure
// would, so it is classified the same way (retryable, throttle), and is recorded.
func TestInjectedFaultsAreAnsweredAsAWSAnswers(t *testing.T) {
	f := start(t, true)
	ctx := context.Background()
	c := f.as(t, ingest)
	table := aws.String(f.st.Tables[0].Name)

	f.proxy.SetFaults(faults.NewInjector(once("dynamodb", "PutItem", faults.Throttle)))
	_, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("f#throttle")}, noRetry)
	var pte *ddbtypes.ProvisionedThroughputExceededException
	require.True(t, errors.As(err, &pte), "got %v", err)
	retryable, throttle := classified(err)
	assert.True(t, retryable && throttle, "a throttle the SDK backs off and retries")
	_, err = c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("f#throttle")}, noRetry)
	require.NoError(t, err, "Times: 1 injects once")

	f.proxy.SetFaults(faults.NewInjector(once("dynamodb", "PutItem", faults.ServerError)))
	_, err = c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("f#500")}, noRetry)
	assert.Equal(t, "InternalServerError", apiCode(err))
	retryable, throttle = classified(err)
	assert.True(t, retryable && !throttle, "a 500 the SDK retries")

	f.proxy.SetFaults(faults.NewInjector(once("dynamodb", "TransactWriteItems", faults.Conflict)))
	_, err = c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: table, Item: item("f#c1")}}, {Put: &ddbtypes.Put{TableName: table, Item: item("f#c2")}}}}, noRetry)
	var tce *ddbtypes.TransactionCanceledException
	require.True(t, errors.As(err, &tce), "got %v", err)
	require.Len(t, tce.CancellationReasons, 2, "a reason per item")
	for _, r := range tce.CancellationReasons {
		assert.Equal(t, "TransactionConflict", aws.ToString(r.Code))
	}
	retryable, _ = classified(err)
	assert.False(t, retryable, "the caller decides: the SDK does not retry a cancelled transaction")

	f.proxy.SetFaults(faults.NewInjector(once("dynamodb", "PutItem", faults.LostResponse)))
	_, err = c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("f#lost")}, noRetry)
	require.Error(t, err, "the answer never arrived")
	retryable, _ = classified(err)
	assert.True(t, retryable, "a dropped connection is retried: %v", err)
	got, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: item("f#lost")})
	require.NoError(t, err)
	assert.NotEmpty(t, got.Item, "yet the write was committed")

	f.proxy.SetFaults(faults.NewInjector(once("sqs", "SendMessage", faults.Latency)))
	queue, _ := f.st.Queue("WorkerQueue5D6E7F8A")
	start := time.Now()
	_, err = c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue.URL), MessageBody: aws.String("{}")})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "served after the delay")

	f.proxy.SetFaults(faults.NewInjector(once("sqs", "SendMessage", faults.Throttle)))
	_, err = c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue.URL), MessageBody: aws.String("{}")},
		func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	assert.Equal(t, "RequestThrottled", apiCode(err))
	retryable, throttle = classified(err)
	assert.True(t, retryable && throttle)

	calls, err := iamproxy.ReadCalls(f.calls)
	require.NoError(t, err)
	var recorded []string
	for _, c := range calls {
		if c.Fault != "" {
			recorded = append(recorded, c.Operation+" "+c.Fault)
		}
	}
	assert.Equal(t, []string{"dynamodb:PutItem throttle", "dynamodb:PutItem 500", "dynamodb:TransactWriteItems conflict",
		"dynamodb:PutItem lost-response", "sqs:SendMessage latency", "sqs:SendMessage throttle"}, recorded)
}
