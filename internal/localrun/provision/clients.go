package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/payhook/payhook/internal/emulators"
)

// Endpoints are the local emulators' URLs.
type Endpoints struct {
	// Region is the region the emulated stack lives in (us-east-1 when empty).
	Region string
	// DynamoDB is DynamoDB Local's URL.
	DynamoDB string
	// Queues is the SQS and SNS emulator's (fauxqs's) URL.
	Queues string
	// SecretsManager is the Secrets Manager endpoint's URL.
	SecretsManager string
}

func (e Endpoints) region() string {
	if e.Region == "" {
		return "us-east-1"
	}
	return e.Region
}

// SDKEnv is the environment that points aws-sdk-go-v2 in a function at the emulators
// (emulators.SDKEnv).
func (e Endpoints) SDKEnv() map[string]string {
	return emulators.SDKEnv(e.region(), e.DynamoDB, e.Queues, e.SecretsManager)
}

// Clients are the SDK clients that provisioning and the pollers use.
type Clients struct {
	DynamoDB       *dynamodb.Client
	SQS            *sqs.Client
	SNS            *sns.Client
	SecretsManager *secretsmanager.Client
}

// NewClients returns SDK clients pointed at the emulators, with dummy static
// credentials; nothing is read from the environment or shared configuration files.
func NewClients(e Endpoints) (Clients, error) { return NewClientsAs(e, "local", "local") }

// NewClientsAs is NewClients signing with the given access key pair (a function's, whose
// calls the local IAM proxy at the endpoints authorizes).
func NewClientsAs(e Endpoints, accessKeyID, secretAccessKey string) (Clients, error) {
	if e.DynamoDB == "" || e.Queues == "" || e.SecretsManager == "" {
		return Clients{}, fmt.Errorf("local clients: every emulator endpoint is required, got %+v", e)
	}
	cfg := aws.Config{
		Region:      e.region(),
		Credentials: credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
	}
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(e.DynamoDB)
			// DynamoDB Local omits the CRC32 header on error responses (as
			// services/internal/config notes).
			o.DisableValidateResponseChecksum = true
		}),
		SQS:            sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.Queues) }),
		SNS:            sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(e.Queues) }),
		SecretsManager: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(e.SecretsManager) }),
	}, nil
}

// ping checks that every client reaches its emulator.
func (c Clients) ping(ctx context.Context) error {
	if _, err := c.DynamoDB.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return fmt.Errorf("reach DynamoDB Local: %w", err)
	}
	if _, err := c.SQS.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		return fmt.Errorf("reach the SQS emulator: %w", err)
	}
	return nil
}
