// Package config loads a service's settings from its environment variables (through
// envconfig) and builds its AWS clients from aws-sdk-go-v2's default configuration chain.
//
// Endpoints are never chosen in code: the SDK itself honours AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>, which is how tests and `mage local` point the very same
// binaries at local emulators.
package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/kelseyhightower/envconfig"

	"github.com/payhook/payhook/services/internal/telemetry"
)

// ColdStart is every service's cold start: a JSON logger on stdout for service, spec filled
// from the environment (see Load) and the AWS SDK configuration. A failure is logged and
// exits 1 (see Exit), so the function's init fails with a message naming the problem.
func ColdStart(service string, spec any) (*slog.Logger, aws.Config) {
	log := telemetry.NewLogger(os.Stdout, service)
	if err := Load(service, spec); err != nil {
		Exit(log, err)
	}
	cfg, err := AWS(context.Background())
	if err != nil {
		Exit(log, err)
	}
	return log, cfg
}

// Exit logs a failed cold start and exits 1.
func Exit(log *slog.Logger, err error) {
	log.Error("cold start failed", "err", err.Error())
	os.Exit(1)
}

// Load fills spec (a pointer to a struct with envconfig tags) from the environment, then
// runs its Validate method when it has one. A missing required variable, a malformed value
// or an impossible setting fails with one error naming it, so a misconfigured function fails
// its cold start instead of doing nothing or failing its first request.
func Load(service string, spec any) error {
	if err := envconfig.Process("", spec); err != nil {
		return fmt.Errorf("%s: configuration: %w", service, err)
	}
	if v, ok := spec.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s: configuration: %w", service, err)
		}
	}
	return nil
}

// AWS loads the SDK configuration (region, credentials, endpoints) from the environment.
func AWS(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS SDK configuration: %w", err)
	}
	return cfg, nil
}

// DynamoDB returns a DynamoDB client. CRC32 validation of responses is off: DynamoDB Local
// omits the CRC header on error responses, and TLS already protects the responses from
// the real service, so one setting serves both without a local-only code path.
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
	})
}

// SQS returns an SQS client.
func SQS(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }

// SNS returns an SNS client.
func SNS(cfg aws.Config) *sns.Client { return sns.NewFromConfig(cfg) }

// SecretsManager returns a Secrets Manager client.
func SecretsManager(cfg aws.Config) *secretsmanager.Client { return secretsmanager.NewFromConfig(cfg) }
