package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

func main() {
	var cfg Config
	log, awsCfg := config.ColdStart("notify-failures", &cfg)
	h := &Handler{
		Store:    &store.Store{DB: config.DynamoDB(awsCfg), Table: cfg.TableName},
		SNS:      config.SNS(awsCfg),
		TopicARN: cfg.TopicARN,
		Env:      cfg.Env,
		Log:      log,
		Metrics:  telemetry.NewMetrics(os.Stdout, "payhook", map[string]string{"Service": "notify-failures", "Env": cfg.Env}),
	}
	lambda.Start(h.Handle)
}
