package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/sqsevent"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/telemetry"
	"github.com/payhook/payhook/services/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

var t0 = time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC)

func newHandler(t *testing.T) *Handler {
	return &Handler{Store: env.NewStore(t), Log: telemetry.NewLogger(io.Discard, "accounting"),
		Metrics: telemetry.NewMetrics(io.Discard, "payhook", nil)}
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

func TestBatchReportsOnlyTheBadMessages(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	a := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "a", "0.10", "KWD"), t0).Body()
	b := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "b", "0.015", "KWD"), t0).Body()
	c := testenv.Insert(t, h.Store, testenv.Notification(t, "stripe", "c", "100", "JPY"), t0).Body()
	ghost := notification.Message{Version: 1, Provider: "acme", TransactionID: "ghost", AmountMinor: 5,
		Currency: "USD", PayloadHash: string(make([]byte, 64)), ReceivedAt: t0}

	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		record("m1", a), record("m2", b), record("poison", `{"v":1,"amount_minor":"lots"}`),
		record("m3", c), record("m1-again", a), record("ghost", ghost.Body()), record("empty", ""),
	}})
	require.NoError(t, err, "a bad message never fails the whole batch")
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	assert.ElementsMatch(t, []string{"poison", "ghost", "empty"}, failed)

	totals, err := h.Store.DailyTotals(ctx, "acme", "2026-11-25")
	require.NoError(t, err)
	assert.Equal(t, int64(115), totals["KWD"].TotalMinor, "0.100 + 0.015 KWD, the redelivered message counted once")
	assert.Equal(t, int64(2), totals["KWD"].Count)
	totals, err = h.Store.DailyTotals(ctx, "stripe", "2026-11-25")
	require.NoError(t, err)
	assert.Equal(t, int64(100), totals["JPY"].TotalMinor)
}

func TestFailureIsNotedOnTheRecord(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	body := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "x", "1", "USD"), t0).Body()
	m, err := notification.ParseMessage(body)
	require.NoError(t, err)
	m.PayloadHash = "f" + m.PayloadHash[1:]
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record("bad", m.Body())}})
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 1)
	rec, err := h.Store.Get(ctx, "acme", "x")
	require.NoError(t, err)
	assert.Contains(t, rec.LastError, "payload hash does not match")
	assert.Equal(t, 1, rec.FailedAttempts)
	assert.Equal(t, store.StatusReceived, rec.Status)
}

// TestPoisonMessageReachesTheDLQ drives the handler the way Lambda's SQS event source does
// (receive, invoke, delete only the successes) against a real queue with a redrive policy.
func TestPoisonMessageReachesTheDLQ(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	q := env.NewQueues(t, 2, time.Second)
	good := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "good", "2.50", "USD"), t0).Body()
	for _, body := range []string{good, "poison"} {
		_, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(body)})
		require.NoError(t, err)
	}
	receives := map[string]int{}
	dead := false
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(q.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			if dlq := env.Receive(t, q.DLQURL, 1, time.Second); len(dlq) == 1 {
				assert.Equal(t, "poison", *dlq[0].Body)
				dead = true
				break
			}
			continue
		}
		resp, err := h.Handle(ctx, sqsevent.FromSDK(out.Messages, "arn:aws:sqs:us-east-1:000000000000:q"))
		require.NoError(t, err)
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, m := range out.Messages {
			receives[*m.Body]++
			if !failed[*m.MessageId] {
				_, err := env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.URL), ReceiptHandle: m.ReceiptHandle})
				require.NoError(t, err)
			}
		}
	}
	assert.True(t, dead, "the poison message reached the DLQ")
	assert.Equal(t, 1, receives[good], "the good message is processed once and deleted")
	assert.Equal(t, 2, receives["poison"], "the poison message is received maxReceiveCount times, then dead-lettered")
	rec, err := h.Store.Get(ctx, "acme", "good")
	require.NoError(t, err)
	assert.Equal(t, store.StatusAccounted, rec.Status)
}

// TestBatchEmitsWhatItMoved: the money metrics of a batch are what it added to the totals,
// per provider and currency, in exact minor units: a redelivery adds nothing.
func TestBatchEmitsWhatItMoved(t *testing.T) {
	h := newHandler(t)
	var out bytes.Buffer
	h.Metrics = telemetry.NewMetrics(&out, "payhook", nil)
	a := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "m-a", "0.10", "KWD"), t0).Body()
	b := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "m-b", "0.015", "KWD"), t0).Body()
	c := testenv.Insert(t, h.Store, testenv.Notification(t, "stripe", "m-c", "100", "JPY"), t0).Body()
	_, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("1", a), record("2", b), record("3", c), record("1-again", a)}})
	require.NoError(t, err)
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if v, ok := rec["CreditedMinor"].(float64); ok {
			got[rec["Provider"].(string)+" "+rec["Currency"].(string)] = v
		}
	}
	assert.Equal(t, map[string]float64{"acme KWD": 115, "stripe JPY": 100}, got)
}

// TestNearItsDeadlineAccountingDefers: with too little time left (fault injection's slow
// calls showed it), the batch's messages are given back for redelivery untouched: not
// attempted, nothing noted on their records, and not counted as accounting failures (which
// page), but as deferred.
func TestNearItsDeadlineAccountingDefers(t *testing.T) {
	h := newHandler(t)
	var out bytes.Buffer
	h.Metrics = telemetry.NewMetrics(&out, "payhook", nil)
	a := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "late-a", "1", "USD"), t0).Body()
	b := testenv.Insert(t, h.Store, testenv.Notification(t, "acme", "late-b", "2", "USD"), t0).Body()
	ctx, cancel := context.WithTimeout(context.Background(), DeadlineMargin/2)
	defer cancel()
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record("a", a), record("b", b)}})
	require.NoError(t, err)
	assert.Len(t, resp.BatchItemFailures, 2, "both back on the queue")
	for _, id := range []string{"late-a", "late-b"} {
		rec, err := h.Store.Get(context.Background(), "acme", id)
		require.NoError(t, err)
		assert.Equal(t, store.StatusReceived, rec.Status, id)
		assert.Empty(t, rec.LastError, "%s: nothing noted", id)
	}
	metrics := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		for _, name := range []string{"Deferred", "AccountingFailed"} {
			if v, ok := rec[name].(float64); ok {
				metrics[name] = v
			}
		}
	}
	assert.Equal(t, map[string]float64{"Deferred": 2, "AccountingFailed": 0}, metrics)
}
