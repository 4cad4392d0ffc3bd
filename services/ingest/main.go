package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payhook/payhook/internal/contract"
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
	decoders, err := cfg.Decoders(schemes)
	if err != nil {
		config.Exit(log, fmt.Errorf("ingest: configuration: %w", err))
	}
	h := &Handler{
		Store:        &store.Store{DB: config.DynamoDB(awsCfg), Table: cfg.TableName},
		Queue:        config.SQS(awsCfg),
		QueueURL:     cfg.QueueURL,
		Secrets:      cfg.secrets(config.SecretsManager(awsCfg)),
		Providers:    schemes,
		Decoders:     decoders,
		Live:         cfg.Live,
		APIKeys:      cfg.APIKeys,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Log:          log,
		Metrics:      telemetry.NewMetrics(os.Stdout, "payhook", map[string]string{"Service": "ingest", "Env": cfg.Env}),
	}
	lambda.Start(h.Handle)
}

// secrets is where the signing secrets come from: SigningSecretARN, and the smoke
// provider's own secret when the stack gives it one.
func (c Config) secrets(client secrets.Getter) SecretSource {
	main := &secrets.Cache{Client: client, SecretID: c.SigningSecretARN}
	if c.SmokeSigningSecretARN == "" {
		return main
	}
	return secrets.ByProvider{Default: main, Own: map[string]*secrets.Cache{
		contract.SmokeProvider: {Client: client, SecretID: c.SmokeSigningSecretARN}}}
}
