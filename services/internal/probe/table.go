package probe

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/payhook/payhook/internal/awscreds"
	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/store"
)

// Table is what the operator tools (failures, totals, replay) use: an environment's table,
// its queue and the names of its providers. Unlike Find it reads no API key and no signing
// secret, so an operator needs only the table, the queue (replay) and the stack's outputs.
type Table struct {
	// Env is the environment.
	Env string
	// Store reads the env's table.
	Store *store.Store
	// QueueURL is the accounting queue's URL, where replay sends.
	QueueURL string
	// Providers are the providers' names: the local stack's (those PAYHOOK_PROVIDERS names
	// when it is set), a deployed env's from PAYHOOK_PROVIDERS; nil when it is not set.
	Providers []string
}

// FindTable returns the local stack's table for env "local" (as Local finds it), else the
// deployed env's: PAYHOOK_TABLE, or the TableName output of its stack. For a deployed env it
// first checks that there are AWS credentials: without them the error says what to set,
// instead of the SDK's failure on the first call.
func FindTable(ctx context.Context, env, statePath string) (*Table, error) {
	if env == "local" {
		t, err := Local(ctx, statePath)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(t.Providers))
		for i, p := range t.Providers {
			names[i] = p.Name
		}
		return &Table{Env: env, Store: t.Store, QueueURL: t.QueueURL, Providers: names}, nil
	}
	if err := RequireCredentials(ctx, env); err != nil {
		return nil, err
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("deployed env %s: %w", env, err)
	}
	table, queue := os.Getenv(contract.ProbeTable), os.Getenv(contract.ProbeQueueURL)
	if table == "" || queue == "" {
		stack := contract.StageName(env)
		out, err := stackOutputs(ctx, cloudformation.NewFromConfig(cfg), stack)
		if err != nil {
			return nil, fmt.Errorf("deployed env %s: %w", env, err)
		}
		if table == "" {
			table = out[contract.OutputTableName]
		}
		if queue == "" {
			queue = out[contract.OutputQueueURL]
		}
		if table == "" {
			return nil, missingOutput(env, stack, contract.OutputTableName)
		}
	}
	var names []string
	if spec := os.Getenv(contract.ProbeProviders); spec != "" {
		providers, err := ParseProviders(spec)
		if err != nil {
			return nil, err
		}
		for _, p := range providers {
			names = append(names, p.Name)
		}
	}
	return &Table{Env: env, Store: &store.Store{DB: config.DynamoDB(cfg), Table: table}, QueueURL: queue, Providers: names}, nil
}

// ErrNoCredentials means a deployed env was asked for and the AWS SDK finds no credentials.
var ErrNoCredentials = errors.New("no AWS credentials")

// RequireCredentials returns nil when the AWS SDK's default chain yields credentials, else
// one error matching ErrNoCredentials that names env and says what to set (awscreds.Require).
func RequireCredentials(ctx context.Context, env string) error {
	err := awscreds.Require(ctx)
	var missing *awscreds.MissingError
	if !errors.As(err, &missing) {
		return err
	}
	why := ""
	if missing.Reason != "" {
		why = " (" + missing.Reason + ")"
	}
	return fmt.Errorf("%w for env %s%s: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "+
		"(PAYHOOK_USE_IMDS=1 on an EC2 instance role), or use -env local", ErrNoCredentials, env, why)
}
