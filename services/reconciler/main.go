package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/relay"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

func main() {
	var cfg Config
	log, awsCfg := config.ColdStart("reconciler", &cfg)
	h := &Handler{
		Relay: &relay.Relay{
			Store:    &store.Store{DB: config.DynamoDB(awsCfg), Table: cfg.TableName},
			Queue:    config.SQS(awsCfg),
			QueueURL: cfg.QueueURL,
		},
		Grace:            cfg.Grace,
		UnaccountedAfter: cfg.UnaccountedAfter,
		Limit:            cfg.Limit,
		Log:              log,
		Metrics:          telemetry.NewMetrics(os.Stdout, "payhook", map[string]string{"Service": "reconciler", "Env": cfg.Env}),
	}
	lambda.Start(h.Handle)
}
