package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/secrets"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

func main() {
	var cfg Config
	log, awsCfg := config.ColdStart("ingest", &cfg)
	schemes, err := cfg.Schemes()
	if err != nil {
		config.Exit(log, fmt.Errorf("ingest: configuration: %w", err))
	}
	h := &Handler{
		Store:        &store.Store{DB: config.DynamoDB(awsCfg), Table: cfg.TableName},
		Queue:        config.SQS(awsCfg),
		QueueURL:     cfg.QueueURL,
		Secrets:      &secrets.Cache{Client: config.SecretsManager(awsCfg), SecretID: cfg.SigningSecretARN},
		Providers:    schemes,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Log:          log,
		Metrics:      telemetry.NewMetrics(os.Stdout, "payhook", map[string]string{"Service": "ingest", "Env": cfg.Env}),
	}
	lambda.Start(h.Handle)
}
