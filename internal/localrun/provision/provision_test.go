package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestProvisionFixture(t *testing.T) {
	// GIVEN the fixture of the payments stack as CDK synthesizes it
	// WHEN it is provisioned on the emulators
	st := testenv.Provision(t, "payhook-local-Payments.template.json", provision.Options{})
	ctx := context.Background()
	c := testenv.Clients()

	t.Run("table with keys, index and TTL", func(t *testing.T) {
		require.Len(t, st.Tables, 1)
		tb := st.Tables[0]
		assert.Equal(t, st.Name+"-TableCD117FA1", tb.Name)
		assert.Equal(t, "arn:aws:dynamodb:us-east-1:000000000000:table/"+tb.Name, tb.ARN)
		d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tb.Name)})
		require.NoError(t, err)
		assert.ElementsMatch(t, []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		}, d.Table.KeySchema)
		require.Len(t, d.Table.GlobalSecondaryIndexes, 1)
		gsi := d.Table.GlobalSecondaryIndexes[0]
		assert.Equal(t, "gsi1", aws.ToString(gsi.IndexName))
		assert.Equal(t, "gsi1pk", aws.ToString(gsi.KeySchema[0].AttributeName))
		assert.Equal(t, ddbtypes.ProjectionTypeAll, gsi.Projection.ProjectionType)
		require.NotNil(t, d.Table.BillingModeSummary)
		assert.Equal(t, ddbtypes.BillingModePayPerRequest, d.Table.BillingModeSummary.BillingMode)
		ttl, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tb.Name)})
		require.NoError(t, err)
		assert.Equal(t, "expires_at", aws.ToString(ttl.TimeToLiveDescription.AttributeName))
	})

	t.Run("queues with redrive policy and visibility", func(t *testing.T) {
		require.Len(t, st.Queues, 2)
		q, ok := st.Queue("WorkerQueue5D6E7F8A")
		require.True(t, ok)
		dlq, ok := st.Queue("WorkerDeadLetterQueue3E2F1A0B")
		require.True(t, ok)
		assert.Equal(t, "WorkerDeadLetterQueue3E2F1A0B", q.DeadLetterQueue)
		assert.Equal(t, 3, q.MaxReceiveCount)
		assert.Equal(t, 30*time.Second, q.VisibilityTimeout)
		attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		require.NoError(t, err)
		assert.Equal(t, "30", attrs.Attributes["VisibilityTimeout"])
		assert.Equal(t, "86400", attrs.Attributes["MessageRetentionPeriod"])
		var rp struct {
			Target string `json:"deadLetterTargetArn"`
			Max    any    `json:"maxReceiveCount"`
		}
		require.NoError(t, json.Unmarshal([]byte(attrs.Attributes["RedrivePolicy"]), &rp))
		assert.Equal(t, dlq.ARN, rp.Target)
		assert.EqualValues(t, "3", fmt.Sprint(rp.Max))
		assert.Equal(t, q.ARN, attrs.Attributes["QueueArn"])
	})

	t.Run("topic; email subscription listed, not dropped", func(t *testing.T) {
		require.Len(t, st.Topics, 1)
		_, err := c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(st.Topics[0].ARN)})
		require.NoError(t, err)
		assert.Empty(t, st.Subscriptions)
		assert.Contains(t, st.Unsupported, provision.Unsupported{LogicalID: "AlertsTopicEmail0D1E2F3A4", Type: provision.TypeSubscription,
			Reason: "protocol email to payhook-local@example.com cannot be delivered locally (only sqs subscriptions are)"})
	})

	t.Run("secret generated as the template says", func(t *testing.T) {
		require.Len(t, st.Secrets, 1)
		assert.True(t, st.Secrets[0].Generated)
		out, err := c.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(st.Secrets[0].ARN)})
		require.NoError(t, err)
		assert.NotEmpty(t, aws.ToString(out.SecretString))
	})

	t.Run("function environments resolved", func(t *testing.T) {
		require.Len(t, st.Functions, 4)
		q, _ := st.Queue("WorkerQueue5D6E7F8A")
		ingest, ok := st.Function("IngressHandlerFunctionA0B1C2D3")
		require.True(t, ok)
		assert.Equal(t, map[string]string{
			"TABLE_NAME":         st.Tables[0].Name,
			"QUEUE_URL":          q.URL,
			"SIGNING_SECRET_ARN": st.Secrets[0].ARN,
			"PROVIDERS":          "acme:standard-webhooks,stripe:stripe,legacy:none",
			"MAX_BODY_BYTES":     "131072",
			"PAYHOOK_ENV":        "local",
			"PAYHOOK_SERVICE":    "ingest",
		}, ingest.Env)
		assert.Equal(t, 128, ingest.MemoryMB)
		assert.Equal(t, 5*time.Second, ingest.Timeout)
		assert.Equal(t, ingest.ARN+":live", ingest.Aliases["live"])

		acct, _ := st.Function("WorkerConsumerFunctionA0B1C2D3")
		assert.Equal(t, st.Tables[0].ARN, acct.Env["TABLE_ARN"])
		assert.Equal(t, q.Name, acct.Env["QUEUE_NAME"], "Fn::Select/Fn::Split of the queue ARN")
		assert.Equal(t, st.Name+"/"+q.Name+"/us-east-1", acct.Env["QUEUE_LABEL"], "Fn::Join")

		nf, _ := st.Function("NotifyFailuresFunctionA0B1C2D3")
		assert.Equal(t, st.Topics[0].ARN, nf.Env["ALERT_TOPIC_ARN"])
		assert.Empty(t, nf.Service, "only an application's hook names services")
		rec, _ := st.Function("ReconcilerFunctionA0B1C2D3")
		assert.Equal(t, 30*time.Second, rec.Timeout)
	})

	t.Run("event source mappings", func(t *testing.T) {
		require.Len(t, st.EventSources, 2)
		byID := map[string]sqspoll.EventSource{}
		for _, es := range st.EventSources {
			byID[es.LogicalID] = es
		}
		q, _ := st.Queue("WorkerQueue5D6E7F8A")
		dlq, _ := st.Queue("WorkerDeadLetterQueue3E2F1A0B")
		assert.Equal(t, sqspoll.EventSource{LogicalID: "WorkerConsumerAliasSqsEventSourceA1B2C3D4", Function: "WorkerConsumerFunctionA0B1C2D3",
			Queue: q.LogicalID, QueueURL: q.URL, QueueARN: q.ARN, BatchSize: 10, ReportBatchItemFailures: true},
			byID["WorkerConsumerAliasSqsEventSourceA1B2C3D4"])
		assert.Equal(t, sqspoll.EventSource{LogicalID: "NotifyFailuresAliasSqsEventSourceB2C3D4E5", Function: "NotifyFailuresFunctionA0B1C2D3",
			Queue: dlq.LogicalID, QueueURL: dlq.URL, QueueARN: dlq.ARN, BatchSize: 5, Window: time.Second, ReportBatchItemFailures: true},
			byID["NotifyFailuresAliasSqsEventSourceB2C3D4E5"])
	})

	t.Run("schedule", func(t *testing.T) {
		require.Len(t, st.Schedules, 1)
		s := st.Schedules[0]
		assert.Equal(t, "rate(1 minute)", s.Expression)
		assert.Equal(t, "ReconcilerFunctionA0B1C2D3", s.Function)
		assert.Equal(t, "arn:aws:events:us-east-1:000000000000:rule/"+st.Name+"-ReconcilerScheduleC3D4E5F6", s.ARN)
	})

	t.Run("API", func(t *testing.T) {
		require.Len(t, st.APIs, 1)
		a := st.APIs[0]
		assert.Equal(t, "payhook-local-ingress", a.Name)
		require.Len(t, a.Routes, 1)
		r := a.Routes[0]
		assert.Equal(t, "/webhooks", r.Path)
		assert.Equal(t, "POST", r.Method)
		assert.Equal(t, "IngressHandlerFunctionA0B1C2D3", r.Function)
		assert.True(t, r.APIKeyRequired)
		require.Len(t, a.Stages, 1)
		assert.Equal(t, "v1", a.Stages[0].Name)
		assert.Equal(t, &apigw.Throttle{RateLimit: 10, BurstLimit: 20}, a.Stages[0].Throttle)
		require.Len(t, a.UsagePlans, 1)
		pl := a.UsagePlans[0]
		assert.Equal(t, []string{"v1"}, pl.Stages)
		assert.Equal(t, &apigw.Throttle{RateLimit: 10, BurstLimit: 20}, pl.Throttle)
		assert.Equal(t, &apigw.Quota{Limit: 10000, Period: "DAY"}, pl.Quota)
		require.Len(t, pl.Keys, 1)
		assert.True(t, pl.Keys[0].Enabled)
		assert.Regexp(t, `^[A-Za-z0-9]{40}$`, pl.Keys[0].Value)
	})

	t.Run("outputs resolved", func(t *testing.T) {
		api := st.APIs[0]
		assert.Equal(t, map[string]string{
			"IngressApiEndpoint1A2B3C4D": "https://" + api.ID + ".execute-api.us-east-1.amazonaws.com/v1/",
			"WebhookUrl":                 "https://" + api.ID + ".execute-api.us-east-1.amazonaws.com/v1/webhooks",
		}, st.Outputs)
	})

	t.Run("everything else listed once", func(t *testing.T) {
		types := map[string]int{}
		for _, u := range st.Unsupported {
			types[u.Type]++
		}
		for typ, n := range map[string]int{
			"AWS::Logs::LogGroup": 5, "AWS::IAM::Role ManagedPolicyArns": 4, "AWS::CloudWatch::Alarm": 4*4 + 2 + 2,
			"AWS::KMS::Key encryption": 1, "AWS::WAFv2::WebACL": 1, "AWS::WAFv2::WebACLAssociation": 1,
			"AWS::Lambda::Permission": 2, "AWS::ApiGateway::Account": 1, "AWS::CDK::Metadata": 1,
			"AWS::DynamoDB::Table SSESpecification": 1, "AWS::DynamoDB::Table PointInTimeRecoverySpecification": 1,
			"AWS::SNS::Topic KmsMasterKeyId": 1, "AWS::ApiGateway::Stage AccessLogSetting": 1, "AWS::ApiGateway::Stage TracingEnabled": 1,
		} {
			assert.Equal(t, n, types[typ], typ)
		}
		total := 0
		for _, r := range testenv.Template(t, "payhook-local-Payments.template.json").Resources {
			if !provision.Emulated(r.Type) {
				total++
			}
		}
		resources := 0
		for _, u := range st.Unsupported {
			if !strings.Contains(u.Type, " ") {
				resources++
			}
		}
		assert.Equal(t, total+1, resources, "every non-emulated resource (and the email subscription) is listed")
		text := provision.FormatUnsupported(st.Unsupported)
		assert.Contains(t, text, "AWS::Logs::LogGroup")
		assert.Equal(t, 1, strings.Count(text, "AWS::Logs::LogGroup "), "one line per type")
	})

	t.Run("access control modelled for the IAM proxy", func(t *testing.T) {
		a := st.Access
		require.Len(t, a.Roles, 5)
		ingest, _ := st.Function("IngressHandlerFunctionA0B1C2D3")
		role, ok := a.RoleNamed(ingest.Role)
		require.True(t, ok, "the function's Role resolves to a modelled role: %s", ingest.Role)
		require.Len(t, role.Policies, 1)
		assert.Equal(t, "IngressHandlerFunctionServiceRoleDefaultPolicy5E6F7A8B", role.Policies[0].Name)
		assert.Contains(t, fmt.Sprint(role.Policies[0].Document), "sqs:SendMessage")
		assert.NotContains(t, fmt.Sprint(role.Policies[0].Document), "Fn::GetAtt", "documents are resolved")
		topic := st.Topics[0].ARN
		key := a.EncryptedBy[topic]
		require.NotEmpty(t, key, "the topic is encrypted by the template's key")
		assert.Contains(t, a.KeyPolicies, key)
		assert.Len(t, a.ResourcePolicies[topic], 1)
		q, _ := st.Queue("WorkerDeadLetterQueue3E2F1A0B")
		assert.Len(t, a.ResourcePolicies[q.ARN], 1)
		assert.Equal(t, q.ARN, a.Queues[q.Name])
	})
}

func TestProvisionReusesAPIKeys(t *testing.T) {
	st := testenv.Provision(t, "payhook-local-Payments.template.json", provision.Options{
		APIKeys: map[string]string{"IngressApiKey7A8B9C0D": "reusedkeyreusedkeyreusedkey0123456789ab"},
	})
	assert.Equal(t, "reusedkeyreusedkeyreusedkey0123456789ab", st.APIs[0].UsagePlans[0].Keys[0].Value)
}

func TestProvisionUnresolvableEnvironmentIsAnError(t *testing.T) {
	tmpl, err := cfn.Parse("test", []byte(`{"Resources": {
	  "Acl": {"Type": "AWS::WAFv2::WebACL"},
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {
	    "PAYHOOK_SERVICE": "ingest", "ACL_ARN": {"Fn::GetAtt": ["Acl", "Arn"]}}}}}
	}}`))
	require.NoError(t, err)
	_, err = provision.Provision(context.Background(), tmpl, testenv.Clients())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resource Fn (AWS::Lambda::Function), property Environment.Variables.ACL_ARN")
	assert.Contains(t, err.Error(), "AWS::WAFv2::WebACL is not emulated locally")
}

func TestProvisionCircularReferences(t *testing.T) {
	tmpl, err := cfn.Parse("test", []byte(`{"Resources": {
	  "A": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["B", "Arn"]}, "maxReceiveCount": 1}}},
	  "B": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["A", "Arn"]}, "maxReceiveCount": 1}}}
	}}`))
	require.NoError(t, err)
	_, err = provision.Provision(context.Background(), tmpl, testenv.Clients())
	assert.ErrorContains(t, err, "circular references")
}

func TestProvisionTakesRegionFromTheCloudAssembly(t *testing.T) {
	st := testenv.Provision(t, "assembly/payhooklocalPayments38BE2FB3.template.json", provision.Options{StackName: "payhook-local-" + testenv.StackName(t)})
	assert.Equal(t, "eu-west-1", st.Region)
	assert.Equal(t, "arn:aws:sqs:eu-west-1:"+st.Name, st.Outputs["QueueArn"])
}

func TestProvisionHooks(t *testing.T) {
	// GIVEN hooks that see the template first, refuse function A, and give the generated
	// secret a value of their own
	tmpl, err := cfn.Parse("test", []byte(`{"Resources": {
	  "Q": {"Type": "AWS::SQS::Queue"},
	  "S": {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {}}},
	  "A": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"S": {"Ref": "S"}}}}},
	  "B": {"Type": "AWS::Lambda::Function"},
	  "MapA": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "A"}, "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]}}},
	  "MapB": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "B"}, "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]}}}
	}}`))
	require.NoError(t, err)
	var prepared, secretsAsked []string
	hooks := provision.Hooks{
		Prepare: func(tmpl *cfn.Template, res *cfn.Resolver) error {
			prepared = tmpl.LogicalIDs(provision.TypeSecret)
			_, err := res.ResolveString(map[string]any{"Ref": "Q"})
			assert.ErrorContains(t, err, "not created yet", "nothing is created before Prepare")
			return nil
		},
		Function: func(spec *lambdarie.FunctionSpec) string {
			if spec.LogicalID == "A" {
				return "not this one"
			}
			spec.Service = "svc-" + spec.LogicalID
			return ""
		},
		SecretValue: func(r *cfn.Resource) (string, bool, error) {
			secretsAsked = append(secretsAsked, r.LogicalID)
			return `{"mine":true}`, true, nil
		},
	}
	// WHEN it is provisioned with them
	st := testenv.ProvisionTemplate(t, tmpl, provision.Options{Hooks: hooks})

	// THEN the refused function, and its event source, are listed, not run
	assert.Equal(t, []string{"S"}, prepared)
	assert.Equal(t, []string{"S"}, secretsAsked)
	require.Len(t, st.Functions, 1)
	assert.Equal(t, "svc-B", st.Functions[0].Service)
	assert.Contains(t, st.Unsupported, provision.Unsupported{LogicalID: "A", Type: provision.TypeFunction, Reason: "not this one"})
	require.Len(t, st.EventSources, 1)
	assert.Equal(t, "B", st.EventSources[0].Function)
	out, err := testenv.Clients().SecretsManager.GetSecretValue(context.Background(),
		&secretsmanager.GetSecretValueInput{SecretId: aws.String(st.Secrets[0].ARN)})
	require.NoError(t, err)
	assert.Equal(t, `{"mine":true}`, aws.ToString(out.SecretString))
}

func TestAccessControlFailsClosed(t *testing.T) {
	tmpl, err := cfn.Parse("test", []byte(`{"Resources": {
	  "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
	  "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "Role"}],
	    "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "Topic"}}]}}},
	  "Acl": {"Type": "AWS::WAFv2::WebACL"},
	  "Inline": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [
	    {"Effect": "Deny", "Action": "sns:Publish", "Resource": {"Fn::GetAtt": ["Acl", "Arn"]}},
	    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Acl", "Arn"]}}]}}},
	  "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": []}}},
	  "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}}
	}}`))
	require.NoError(t, err)
	st := testenv.ProvisionTemplate(t, tmpl, provision.Options{})
	require.Len(t, st.Access.Roles, 1)
	var role *iamproxy.Role
	for _, r := range st.Access.Roles {
		role = r
	}
	require.Len(t, role.Policies, 2, "the customer managed policy is attached by its Roles")
	doc := fmt.Sprint(role.Policies)
	assert.Contains(t, doc, "Effect:Deny Resource:*", "a Deny that cannot be resolved is kept, on every resource")
	assert.NotContains(t, doc, "sqs:SendMessage", "an Allow that cannot be resolved is left out")
	topic := st.Topics[0].ARN
	assert.Contains(t, st.Access.EncryptedBy[topic], ":key/", "a key named by its id (Ref) is the key of the topic")
	d := st.Access.Decide(role, iamproxy.Call{Action: "sns:Publish", Resource: topic})
	assert.False(t, d.Allowed, "the widened Deny wins over the managed policy's Allow")
}
