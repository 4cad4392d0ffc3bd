// Package awscreds tells whether the AWS SDK's default credential chain yields credentials,
// quickly and without asking the EC2 instance metadata endpoint off AWS, so that a command
// that needs an account says what to set instead of failing on its first call with the
// SDK's error. It imports only the AWS SDK: the operator tools (services/internal/probe)
// use it without depending on the CDK, and the CDK commands (internal/cdkcli) can too.
package awscreds

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Timeout bounds how long Require waits for the chain (an SSO or container endpoint that
// does not answer).
const Timeout = 5 * time.Second

// MissingError is Require's error: the chain gave no credentials.
type MissingError struct {
	// Reason is what the SDK said when it says something an operator can act on (a profile
	// that does not exist, an expired SSO session); "" when nothing is configured at all.
	Reason string
}

// Error says that there are no credentials, and why when known.
func (e *MissingError) Error() string {
	if e.Reason == "" {
		return "no AWS credentials"
	}
	return "no AWS credentials (" + e.Reason + ")"
}

// Require resolves AWS credentials through the SDK's default chain (environment, shared
// config and SSO profiles, container credentials as in CodeBuild), giving up after Timeout.
// The EC2 instance metadata endpoint is not asked unless PAYHOOK_USE_IMDS=1: off AWS it is
// an address nothing answers on. It returns nil or a *MissingError.
func Require(ctx context.Context) error {
	_, err := Load(ctx)
	return err
}

// Load is Require's configuration, whose credentials resolved: for a caller that goes on to
// call AWS with them. Its error is a *MissingError.
func Load(ctx context.Context) (aws.Config, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var opts []func(*awsconfig.LoadOptions) error
	if os.Getenv("PAYHOOK_USE_IMDS") != "1" {
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &MissingError{Reason: err.Error()}
	}
	if cfg.Credentials == nil {
		return aws.Config{}, &MissingError{}
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	switch {
	case err != nil && os.Getenv("AWS_PROFILE") != "":
		// A named profile that yields nothing is most often an expired SSO session.
		return aws.Config{}, &MissingError{Reason: "profile " + os.Getenv("AWS_PROFILE") + ": " + err.Error()}
	case err != nil || !creds.HasKeys():
		return aws.Config{}, &MissingError{}
	}
	return cfg, nil
}
