package payments

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/keys"
)

// signingSecret creates the providers' signing secret, a placeholder that operators fill with
// the providers' secrets (README: "Provider signing secrets"), never in the template, and the
// smoke provider's, generated; both under the env's secrets key.
func (b *builder) signingSecret() {
	b.s.SecretsKey = keys.New(b.s.Stack, "SecretsKey", "payhook "+b.e.Name+": webhook signing secrets", b.removal)
	b.s.SigningSecret = awssecretsmanager.NewSecret(b.s.Stack, jsii.String("SigningSecrets"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(contract.SigningSecretName(b.e.Name)),
		Description:   jsii.String("payhook " + b.e.Name + `: webhook signing secrets, JSON {"<provider>": ["whsec_..."]}`),
		EncryptionKey: b.s.SecretsKey,
		RemovalPolicy: b.removal,
	})
	// {"payhook-smoke": "<32 letters and digits>"}: valid base64, so a Standard Webhooks key.
	b.s.SmokeSigningSecret = awssecretsmanager.NewSecret(b.s.Stack, jsii.String("SmokeSigningSecret"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(contract.SmokeSecretName(b.e.Name)),
		Description:   jsii.String("payhook " + b.e.Name + ": the smoke provider's signing secret (" + contract.SmokeProvider + ")"),
		EncryptionKey: b.s.SecretsKey,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String("{}"),
			GenerateStringKey:    jsii.String(contract.SmokeProvider),
			PasswordLength:       jsii.Number(32),
			ExcludePunctuation:   jsii.Bool(true),
		},
		RemovalPolicy: b.removal,
	})
}

// lockSecrets lets the secrets be read by their readers alone, whatever else IAM grants in
// the account (an administrator's `*`, say): ingest reads both, the env's smoke role the
// smoke secret (in a preview, the env file's preview_role too), the env file's break-glass
// role (if any) both. Each secret's resource policy
// denies GetSecretValue to every other principal, and the key's policy denies kms:Decrypt to
// every other principal, so neither a grant nor a copy of the ciphertext opens them.
func (b *builder) lockSecrets(ingest awsiam.IRole) {
	readers := []any{ingest.RoleArn()}
	if b.e.BreakGlassRole != "" {
		readers = append(readers, b.e.BreakGlassRole)
	}
	smoke := fmt.Sprintf("arn:%s:iam::%s:role/%s", contract.Partition(b.e.Region), *b.s.Stack.Account(), contract.SmokeRoleName(b.e.Name))
	withSmoke := append(append([]any{}, readers...), smoke)
	if b.e.PreviewOf() != "" && b.e.PreviewRole != "" {
		withSmoke = append(withSmoke, b.e.PreviewRole) // it smoke-tests the preview it deployed
	}
	b.s.SigningSecret.AddToResourcePolicy(denyAllBut("secretsmanager:GetSecretValue", readers))
	b.s.SmokeSigningSecret.AddToResourcePolicy(denyAllBut("secretsmanager:GetSecretValue", withSmoke))
	b.s.SecretsKey.AddToResourcePolicy(denyAllBut("kms:Decrypt", withSmoke), jsii.Bool(false))
	b.s.SecretsKey.GrantDecrypt(ingest)
}

// denyAllBut denies action to every principal but the roles named.
func denyAllBut(action string, roles []any) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyItsReaders"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings(action),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": roles}},
	})
}
