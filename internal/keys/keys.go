// Package keys creates payhook's customer managed KMS keys one way: rotation on, and a key
// policy that lets no principal create a grant on the key unless the grant is for an AWS
// resource or the caller is an AWS service (AWS Control Tower's CT.KMS.PR.3): a grant is a
// second, policy-less path to the key that a stolen role could otherwise open for itself.
// Service keys add the service statements each use needs (CloudWatch Logs, notifications).
package keys

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// New creates a rotating customer managed key that refuses grants except for AWS resources.
func New(scope constructs.Construct, id, description string, removal awscdk.RemovalPolicy) awskms.Key {
	k := awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	k.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyGrantsExceptForAWSResources"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"BoolIfExists": map[string]any{
			"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
	}), jsii.Bool(false))
	return k
}

// AllowLogs lets CloudWatch Logs of the key's own account and region encrypt and decrypt
// the log groups of that account (the encryption context names the log group), so that the
// key can encrypt a log group (AWS Control Tower's CT.CLOUDWATCH.PR.3).
func AllowLogs(k awskms.Key) {
	stack := awscdk.Stack_Of(k)
	k.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", *stack.Region())), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String("*"),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})}},
	}), jsii.Bool(false))
}
