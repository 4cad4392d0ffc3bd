package payments

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/internal/contract"
)

// tagsAndOutputs tags every resource with the env (contract.EnvTag) and the env's tags,
// and adds the outputs the tools and the pipeline's post-steps read.
func (b *builder) tagsAndOutputs() {
	stack := b.s.Stack
	awscdk.Tags_Of(stack).Add(jsii.String(contract.EnvTag), jsii.String(b.e.Name), nil)
	keys := make([]string, 0, len(b.e.Tags))
	for k := range b.e.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(b.e.Tags[k]), nil)
	}
	out := func(id string, v *string, desc string) {
		b.s.Outputs[id] = awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	s := b.s
	out(contract.OutputAPIURL, s.Ingress.URL(), "Webhook endpoint (POST)")
	smokeKey := s.Ingress.ApiKeys[contract.APIKeyName(b.e.Name, contract.SmokeProvider)].KeyId()
	out(contract.OutputSmokeAPIKeyID, smokeKey, "The smoke provider's API key id (value: aws apigateway get-api-key --api-key <id> --include-value)")
	out(contract.OutputAPIKeyIDs, b.keyIDs(), `Each keyed provider's API key id, {"<provider>": "<id>"} (value: aws apigateway get-api-key --api-key <id> --include-value)`)
	out(contract.OutputTableName, s.Table.TableName(), "DynamoDB table")
	out(contract.OutputQueueURL, s.Worker.Queue.QueueUrl(), "Accounting queue")
	out(contract.OutputDLQURL, s.Worker.DeadLetterQueue.QueueUrl(), "Dead-letter queue")
	out(contract.OutputTopicARN, s.AlertsTopic.TopicArn(), "Alerts topic")
	out(contract.OutputSecretARN, s.SigningSecret.SecretArn(), "Provider signing secrets")
	out(contract.OutputSmokeSecretARN, s.SmokeSigningSecret.SecretArn(), "The smoke provider's signing secret")
	out("IngestFunctionName", s.Ingress.Handler.Function.FunctionName(), "Ingest function")
	out("AccountingFunctionName", s.Worker.Consumer.Function.FunctionName(), "Accounting function")
	out("NotifyFailuresFunctionName", s.NotifyFailures.Function.FunctionName(), "Notify-failures function")
	out("ReconcilerFunctionName", s.Reconciler.Function.FunctionName(), "Outbox reconciler function")
}
