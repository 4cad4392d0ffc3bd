package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/cost"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/signature"
	"github.com/payhook/payhook/services/internal/store"
	"github.com/payhook/payhook/services/internal/testenv"
)

const benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// world is what the functions run against: a table, a queue, a secret and a topic on the
// emulators, and the variables the payments stack would set.
type world struct {
	env    *testenv.Env
	store  *store.Store
	vars   map[string]string
	python string // the reference module's interpreter version
}

// newWorld provisions the resources the functions need on the running emulators.
func newWorld(ctx context.Context, env *testenv.Env) (*world, error) {
	w := &world{env: env, store: &store.Store{DB: env.DDB, Table: "bench"}}
	if _, err := env.DDB.CreateTable(ctx, store.CreateTableInput("bench")); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	q, err := env.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		return nil, fmt.Errorf("create queue: %w", err)
	}
	secret, _ := json.Marshal(map[string][]string{"acme": {benchSecret}})
	s, err := env.SM.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bench"), SecretString: aws.String(string(secret))})
	if err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	topic, err := env.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench")})
	if err != nil {
		return nil, fmt.Errorf("create topic: %w", err)
	}
	w.vars = map[string]string{
		contract.EnvTableName: "bench", contract.EnvQueueURL: *q.QueueUrl, contract.EnvSigningSecretARN: *s.ARN,
		contract.EnvProviders: "acme:standard-webhooks", contract.EnvMaxBodyBytes: "131072",
		contract.EnvAlertTopicARN: *topic.TopicArn, contract.EnvUnaccountedAfter: "30m", contract.EnvPayhookEnv: "bench",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
	}
	return w, nil
}

// stored inserts a notification and returns its queue message (accounting's input).
func (w *world) stored(ctx context.Context, id string) (string, error) {
	cur, _ := money.LookupCurrency("EUR")
	amt, err := money.ParseAmount("12.34", cur)
	if err != nil {
		return "", err
	}
	n := notification.Notification{Provider: "acme", TransactionID: id, Amount: amt}
	tx := store.NewTransaction(n, n.Hash(), "bench", time.Now())
	if _, _, err := w.store.Insert(ctx, tx); err != nil {
		return "", err
	}
	if err := w.store.MarkEnqueued(ctx, "acme", id); err != nil {
		return "", err
	}
	return tx.Message().Body(), nil
}

// eventFor returns the i-th event of a function: a signed webhook for ingest, a batch of
// one stored notification for accounting and notify-failures, a schedule for the
// reconciler, anything for the floor.
func (w *world) eventFor(ctx context.Context, service string, i int) ([]byte, error) {
	id := "bench-" + service + "-" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	switch service {
	case "ingest":
		body := fmt.Sprintf(`{"transaction_id":%q,"amount":"12.34","currency":"EUR","provider":"acme"}`, id)
		now := time.Now()
		sig, err := signature.SignStandard(benchSecret, "msg_"+id, now, []byte(body))
		if err != nil {
			return nil, err
		}
		return json.Marshal(events.APIGatewayProxyRequest{
			HTTPMethod: "POST", Path: "/webhooks", Body: body,
			Headers: map[string]string{"Content-Type": "application/json", "webhook-id": "msg_" + id,
				"webhook-timestamp": strconv.FormatInt(now.Unix(), 10), "webhook-signature": sig},
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: id},
		})
	case "accounting", "notifyfailures":
		msg, err := w.stored(ctx, id)
		if err != nil {
			return nil, err
		}
		return json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{
			MessageId: id, Body: msg, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": "3", "SentTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10)},
		}}})
	default:
		return []byte(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`), nil
	}
}

// measure launches a function `launches` times from cold, and runs `warm` warm invocations
// in the first launch; it returns the medians (and the cold start's p90).
func measure(ctx context.Context, rie, bootstrap string, env []string, events func(int) ([]byte, error), launches, warm int) (cost.FunctionFigures, error) {
	var inits, firsts, warms []float64
	var fig cost.FunctionFigures
	for i := 0; i < launches; i++ {
		ev, err := events(i)
		if err != nil {
			return fig, err
		}
		l, err := start(rie, bootstrap, env)
		if err != nil {
			return fig, err
		}
		_, first, err := l.invoke(ctx, ev)
		if err == nil {
			var initMs float64
			if initMs, err = l.initMs(); err == nil {
				inits, firsts = append(inits, initMs), append(firsts, ms(first))
			}
		}
		if err == nil && i == 0 {
			err = warmPhase(ctx, l, events, launches, warm, &warms, &fig)
		}
		l.stop()
		if err != nil {
			return fig, fmt.Errorf("%s: %w", bootstrap, err)
		}
	}
	fig.InitMs, fig.InitP90Ms = quantile(inits, 0.5), quantile(inits, 0.9)
	fig.FirstMs, fig.WarmMs = quantile(firsts, 0.5), quantile(warms, 0.5)
	return fig, nil
}

// warmPhase runs the warm invocations of one launch, and reads its log bytes and memory.
func warmPhase(ctx context.Context, l *launch, events func(int) ([]byte, error), offset, warm int, warms *[]float64, fig *cost.FunctionFigures) error {
	before := l.functionBytes()
	for j := 0; j < warm; j++ {
		ev, err := events(offset + j)
		if err != nil {
			return err
		}
		_, took, err := l.invoke(ctx, ev)
		if err != nil {
			return err
		}
		*warms = append(*warms, ms(took))
	}
	time.Sleep(50 * time.Millisecond) // the last REPORT line
	fig.LogBytes = float64(l.functionBytes()-before) / float64(warm)
	fig.RSSMB = l.maxRSSMB()
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quantile is the q-quantile (nearest rank) of xs, 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
