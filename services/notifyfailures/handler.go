// Package main is the notify-failures function: DLQ batches → record each dead message in
// the table → publish an SNS alert.
//
// The record comes first and is durable (status failed, reason, attempts and the original
// body on the transaction, which also goes on the FAILED list for replay; or a FAILURE#
// item when the body names no transaction). Only then is the alert published. If
// publishing fails the message is reported as a batch item failure, stays in the DLQ and
// is retried; the record is written idempotently again. The body is never lost.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
)

// Config is notify-failures' environment.
type Config struct {
	// TableName is the DynamoDB table.
	TableName string `envconfig:"TABLE_NAME" required:"true"`
	// TopicARN is the alerts topic.
	TopicARN string `envconfig:"ALERT_TOPIC_ARN" required:"true"`
	// Env names the environment in alerts and metrics.
	Env string `envconfig:"PAYHOOK_ENV" default:"unknown"`
}

// Publisher is the SNS call notify-failures needs.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Handler records dead messages and alerts on them.
type Handler struct {
	// Store is the table.
	Store *store.Store
	// SNS publishes alerts to TopicARN.
	SNS      Publisher
	TopicARN string
	// Env names the environment in alerts.
	Env string
	// Log and Metrics receive structured logs and EMF metrics.
	Log     *slog.Logger
	Metrics *telemetry.Metrics
}

// Alert is the JSON published to the alerts topic: what died (transaction, provider), why,
// after how many receives, when it was first seen, where it is recorded and whether
// `mage replay` can put it back.
type Alert struct {
	Kind          string `json:"kind"`
	Env           string `json:"env"`
	TransactionID string `json:"transaction_id,omitempty"`
	Provider      string `json:"provider,omitempty"`
	Reason        string `json:"reason"`
	ReceiveCount  int    `json:"receive_count"`
	FirstSeen     string `json:"first_seen,omitempty"`
	RecordKey     string `json:"record_key"`
	Replayable    bool   `json:"replayable"`
	MessageID     string `json:"message_id"`
}

// Handle processes one DLQ batch.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	log := h.Log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("request_id", lc.AwsRequestID)
	}
	for _, rec := range ev.Records {
		if err := h.one(ctx, log, rec); err != nil {
			log.Error("dead message kept for retry", "message_id", rec.MessageId, "err", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	h.Metrics.Count("Failed", len(ev.Records)-len(resp.BatchItemFailures), nil)
	h.Metrics.Count("AlertFailed", len(resp.BatchItemFailures), nil)
	return resp, nil
}

func (h *Handler) one(ctx context.Context, log *slog.Logger, rec events.SQSMessage) error {
	dead := store.DeadMessage{
		MessageID:    rec.MessageId,
		Body:         rec.Body,
		ReceiveCount: store.ReceiveCount(rec.Attributes["ApproximateReceiveCount"]),
		SentAt:       sentAt(rec.Attributes["SentTimestamp"]),
	}
	if m, err := notification.ParseMessage(rec.Body); err != nil {
		dead.ParseError = err.Error()
		// Best effort: tie it to its transaction anyway, so replay and the alert see it.
		dead.Provider, dead.TransactionID, _ = notification.MessageIdentity(rec.Body)
	} else {
		dead.Parsed = &m
		dead.Provider, dead.TransactionID = m.Provider, m.TransactionID
	}
	fr, err := h.Store.RecordFailure(ctx, dead)
	if err != nil {
		return err
	}
	alert := Alert{
		Kind: "payhook.dead_message", Env: h.Env, Reason: fr.Reason, ReceiveCount: dead.ReceiveCount,
		FirstSeen: fr.FirstSeen, RecordKey: fr.Key, Replayable: fr.OnTransaction, MessageID: rec.MessageId,
	}
	alert.TransactionID, alert.Provider = dead.TransactionID, dead.Provider
	body, _ := json.Marshal(alert)
	if _, err := h.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(h.TopicARN),
		Subject:  aws.String("payhook " + h.Env + ": dead payment notification"),
		Message:  aws.String(string(body)),
	}); err != nil {
		return fmt.Errorf("publish alert for %s: %w", fr.Key, err)
	}
	log.Warn("dead message recorded and alerted", "message_id", rec.MessageId, "record", fr.Key,
		"transaction_id", alert.TransactionID, "provider", alert.Provider, "reason", fr.Reason)
	return nil
}

func sentAt(ms string) string {
	v, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || v <= 0 {
		return ""
	}
	return time.UnixMilli(v).UTC().Format(store.TimeLayout)
}
