package payments

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cfnrules"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/keys"
)

// gsi1 is the table's one index, of work lists (services/internal/store's IndexGSI1).
const gsi1 = "gsi1"

// table creates the one table: one record per (provider, transaction id), the daily totals,
// failures, and the work lists on gsi1 (see services/internal/store).
func (b *builder) table() {
	retain := b.e.RetainData
	b.s.Table = awsdynamodb.NewTable(b.s.Stack, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:    jsii.String(b.e.StageName()),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection: jsii.Bool(retain),
		RemovalPolicy:      b.removal,
	})
	b.s.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(gsi1),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
}

// newAlerts creates the alerts topic and the customer-managed key that encrypts it. Both
// policies let this account's CloudWatch alarms deliver: the key's (kms:GenerateDataKey*,
// kms:Decrypt) and the topic's (sns:Publish). The topic policy replaces SNS's default policy,
// so without its Allow no alarm could publish; the TLS-only Deny (EnforceSSL) stays.
func newAlerts(stack awscdk.Stack, e envs.Env, removal awscdk.RemovalPolicy) (awskms.Key, awssns.Topic) {
	cloudwatch := []awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(cfnrules.CloudWatchPrincipal), nil)}
	fromThisAccount := map[string]any{"aws:SourceAccount": stack.Account()}
	key := keys.New(stack, "AlertsKey", "payhook "+e.Name+" alerts topic", removal)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &cloudwatch,
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": fromThisAccount},
	}), jsii.Bool(false))
	topic := awssns.NewTopic(stack, jsii.String("Alerts"), &awssns.TopicProps{
		TopicName:   jsii.String(contract.StageName(e.Name) + "-alerts"),
		DisplayName: jsii.String("payhook " + e.Name + " alerts"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	alarms := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &cloudwatch,
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{"StringEquals": fromThisAccount, "ArnLike": map[string]any{"aws:SourceArn": alarms}},
	}))
	for _, addr := range e.Alarms.Emails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
	return key, topic
}
