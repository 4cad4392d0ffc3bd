// Package cdkcli runs the pinned AWS CDK CLI (aws-cdk 2.1148.x from package.json, under the
// Node 22 binary the project installs) and checks for AWS credentials before commands that
// need an account.
package cdkcli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/payhook/payhook/internal/awscreds"
	"github.com/payhook/payhook/internal/nodebin"
)

// ErrNoCredentials means no AWS credentials were found: deploy and a diff against a
// deployed stack cannot run.
var ErrNoCredentials = errors.New("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or PAYHOOK_USE_IMDS=1 on an EC2 instance role) and try again")

// RequireCredentials resolves AWS credentials through the SDK's default chain (environment,
// shared config and SSO profiles, container credentials as in CodeBuild), giving up after a
// few seconds. The EC2 instance metadata endpoint is not asked unless PAYHOOK_USE_IMDS=1:
// off AWS it is an address nothing answers on.
func RequireCredentials(ctx context.Context) error {
	_, err := loadCredentials(ctx)
	return err
}

// loadCredentials is RequireCredentials' configuration, with credentials that resolved.
func loadCredentials(ctx context.Context) (aws.Config, error) {
	cfg, err := awscreds.Load(ctx)
	if err != nil {
		var missing *awscreds.MissingError
		if errors.As(err, &missing) && missing.Reason != "" {
			return aws.Config{}, fmt.Errorf("%w (%s)", ErrNoCredentials, missing.Reason)
		}
		return aws.Config{}, ErrNoCredentials
	}
	return cfg, nil
}

// CallerAccount is the AWS account of the credentials at hand (STS GetCallerIdentity, in
// region, which the caller knows from the env file).
func CallerAccount(ctx context.Context, region string) (string, error) {
	cfg, err := loadCredentials(ctx)
	if err != nil {
		return "", err
	}
	cfg.Region = region
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("whose credentials (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(out.Account), nil
}

// Command returns the pinned CDK CLI invocation in root with args, run by the project's
// Node 22 (the CLI needs no more than the system Node, but one Node keeps runs alike).
func Command(ctx context.Context, root string, args ...string) (*exec.Cmd, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("cdk: %w", err)
	}
	cli := filepath.Join(root, "node_modules", "aws-cdk", "bin", "cdk")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("pinned Node tools missing (%s): run `npm ci`", cli)
	}
	nodeDir, err := nodebin.Dir(root)
	if err != nil {
		return nil, fmt.Errorf("cdk: %w", err)
	}
	node := filepath.Join(nodeDir, "node")
	cmd := exec.CommandContext(ctx, node, append([]string{cli}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CDK_DISABLE_VERSION_CHECK=1", "CDK_DISABLE_CLI_TELEMETRY=true", "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd, nil
}

// DeleteSecretsNow deletes the named secrets in region without a recovery window, so that
// their names are free at once: CloudFormation may leave a deleted stack's secret scheduled
// for deletion, which blocks a preview of the same name from being made again. A secret
// that is already gone is no error (ForceDeleteWithoutRecovery succeeds for it).
func DeleteSecretsNow(ctx context.Context, region string, names ...string) error {
	cfg, err := loadCredentials(ctx)
	if err != nil {
		return err
	}
	cfg.Region = region
	client := secretsmanager.NewFromConfig(cfg)
	var errs []error
	for _, n := range names {
		_, err := client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(n),
			ForceDeleteWithoutRecovery: aws.Bool(true)})
		if err != nil {
			errs = append(errs, fmt.Errorf("delete secret %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
