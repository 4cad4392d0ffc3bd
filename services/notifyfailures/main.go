package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

func main() {
	log := telemetry.NewLogger(os.Stdout, "notify-failures")
	var cfg Config
	if err := config.Load("notify-failures", &cfg); err != nil {
		log.Error("cold start failed", "err", err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.AWS(context.Background())
	if err != nil {
		log.Error("cold start failed", "err", err.Error())
		os.Exit(1)
	}
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
