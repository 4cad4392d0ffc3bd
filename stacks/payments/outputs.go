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
	out(contract.OutputAPIURL, s.Ingress.URL(), "Webhook endpoint: POST here with an API key; a provider with a path of its own posts to <ApiUrl>/<provider> (ProviderUrls)")
	out(contract.OutputProviderURLs, b.providerURLs(), `Each provider's own endpoint, {"<provider>": "<url>"}: give Stripe its entry`)
	out(contract.OutputLogGroups, b.logGroups(), `Where each part logs, {"<part>": "<log group>"}: the functions, the API's access logs, WAF's blocked and counted requests`)
	smokeKey := s.Ingress.ApiKeys[contract.APIKeyName(b.e.Name, contract.SmokeProvider)].KeyId()
	out(contract.OutputSmokeAPIKeyID, smokeKey, "The smoke provider's API key id (its value: aws apigateway get-api-key --include-value --api-key <id>)")
	out(contract.OutputAPIKeyIDs, b.keyIDs(), `Each keyed provider's API key id, {"<provider>": "<id>"} (its value: aws apigateway get-api-key --include-value --api-key <id>)`)
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

// jsonObject joins keys and values (tokens allowed) into a JSON object, in keys' order.
func jsonObject(keys []string, values []*string) *string {
	parts := []*string{jsii.String("{")}
	for i, k := range keys {
		sep := ","
		if i == 0 {
			sep = ""
		}
		parts = append(parts, jsii.String(sep+`"`+k+`":"`), values[i], jsii.String(`"`))
	}
	parts = append(parts, jsii.String("}"))
	return awscdk.Fn_Join(jsii.String(""), &parts)
}

// providerURLs is the JSON object of each provider's own endpoint.
func (b *builder) providerURLs() *string {
	var keys []string
	var values []*string
	for _, p := range b.e.Providers {
		if u := b.s.Ingress.RouteURL(p.Name); u != nil {
			keys, values = append(keys, p.Name), append(values, u)
		}
	}
	return jsonObject(keys, values)
}

// logGroups is the JSON object of where each part logs.
func (b *builder) logGroups() *string {
	s := b.s
	return jsonObject(
		[]string{"ingest", "accounting", "notify-failures", "reconciler", "api-access", "waf"},
		[]*string{s.Ingress.Handler.LogGroup.LogGroupName(), s.Worker.Consumer.LogGroup.LogGroupName(),
			s.NotifyFailures.LogGroup.LogGroupName(), s.Reconciler.LogGroup.LogGroupName(),
			s.Ingress.AccessLogGroup.LogGroupName(), s.Ingress.WafLogGroup.LogGroupName()})
}
