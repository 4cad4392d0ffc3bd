// Package testenv starts the real-protocol emulators for the services' tests (DynamoDB
// Local, fauxqs for SQS and SNS, and payhook's Secrets Manager endpoint) once per test
// binary, points the AWS SDK at them through AWS_ENDPOINT_URL_<SERVICE> exactly as local
// mode does, and creates fresh tables, queues and topics per test.
package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/secretsemu"
	"github.com/payhook/payhook/services/internal/config"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/store"
)

// Env is the running emulators and SDK clients pointed at them.
type Env struct {
	DynamoProc *emulators.Process
	QueueProc  *emulators.Process
	Secrets    *secretsemu.Server

	AWS aws.Config
	DDB *dynamodb.Client
	SQS *sqs.Client
	SNS *sns.Client
	SM  *secretsmanager.Client
}

var seq atomic.Int64

// Main starts the emulators, runs the tests and stops the emulators. Use it from TestMain:
//
//	var env *testenv.Env
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }
func Main(m *testing.M, out **Env) int {
	e, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	*out = e
	defer e.Stop()
	return m.Run()
}

// Start starts the emulators and sets the SDK environment of this process to them.
func Start(ctx context.Context) (*Env, error) {
	tools, err := emulators.FindTools("")
	if err != nil {
		return nil, err
	}
	var log io.Writer
	if os.Getenv("PAYHOOK_EMULATOR_LOGS") != "" {
		log = os.Stderr
	}
	e := &Env{}
	if e.DynamoProc, err = tools.StartDynamoDB(ctx, log); err != nil {
		return nil, err
	}
	if e.QueueProc, err = tools.StartFauxqs(ctx, log); err != nil {
		e.Stop()
		return nil, err
	}
	if e.Secrets, err = secretsemu.Start("127.0.0.1:0", "us-east-1", "000000000000"); err != nil {
		e.Stop()
		return nil, err
	}
	for k, v := range emulators.SDKEnv("us-east-1", e.DynamoProc.URL, e.QueueProc.URL, e.Secrets.URL) {
		os.Setenv(k, v)
	}
	if e.AWS, err = config.AWS(ctx); err != nil {
		e.Stop()
		return nil, err
	}
	e.DDB = config.DynamoDB(e.AWS)
	e.SQS = config.SQS(e.AWS)
	e.SNS = config.SNS(e.AWS)
	e.SM = config.SecretsManager(e.AWS)
	return e, nil
}

// Stop stops every emulator.
func (e *Env) Stop() {
	if e.Secrets != nil {
		_ = e.Secrets.Close()
	}
	if e.QueueProc != nil {
		e.QueueProc.Stop()
	}
	if e.DynamoProc != nil {
		e.DynamoProc.Stop()
	}
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// Name returns a unique resource name for the test.
func Name(t testing.TB) string {
	n := unsafe.ReplaceAllString(t.Name(), "-")
	if len(n) > 40 {
		n = n[:40]
	}
	return n + "-" + strconv.FormatInt(seq.Add(1), 10)
}

// NewStore creates a fresh table with payhook's schema and returns a store on it.
func (e *Env) NewStore(t testing.TB) *store.Store {
	t.Helper()
	name := "t-" + Name(t)
	if _, err := e.DDB.CreateTable(context.Background(), store.CreateTableInput(name)); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return &store.Store{DB: e.DDB, Table: name}
}

// Notification returns the notification of provider and id for amount, a decimal string in
// currency; an unknown currency or a malformed amount fails the test.
func Notification(t testing.TB, provider, id, amount, currency string) notification.Notification {
	t.Helper()
	cur, ok := money.LookupCurrency(currency)
	if !ok {
		t.Fatalf("unknown currency %q", currency)
	}
	a, err := money.ParseAmount(amount, cur)
	if err != nil {
		t.Fatalf("amount %q %s: %v", amount, currency, err)
	}
	return notification.Notification{Provider: provider, TransactionID: id, Amount: a}
}

// Insert stores n as a new record received at at (request id "r") and returns the queue
// message ingest sends for it; a store error or an existing record fails the test.
func Insert(t testing.TB, st *store.Store, n notification.Notification, at time.Time) notification.Message {
	t.Helper()
	tx := store.NewTransaction(n, n.Hash(), "r", at)
	out, _, err := st.Insert(context.Background(), tx)
	if err != nil {
		t.Fatalf("insert %s/%s: %v", n.Provider, n.TransactionID, err)
	}
	if out != store.Inserted {
		t.Fatalf("insert %s/%s: record already there (outcome %v)", n.Provider, n.TransactionID, out)
	}
	return tx.Message()
}

// Queues is a main queue with its dead-letter queue.
type Queues struct {
	Name, URL, DLQURL string
}

// NewQueues creates a queue whose redrive policy moves a message to a fresh DLQ after
// maxReceive receives; visibility is the main queue's visibility timeout.
func (e *Env) NewQueues(t testing.TB, maxReceive int, visibility time.Duration) Queues {
	t.Helper()
	return e.NewQueuesNamed(t, Name(t), maxReceive, visibility)
}

// NewQueuesNamed is NewQueues with a given name (to re-create queues after an outage).
func (e *Env) NewQueuesNamed(t testing.TB, name string, maxReceive int, visibility time.Duration) Queues {
	t.Helper()
	ctx := context.Background()
	dlq, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatalf("create dlq: %v", err)
	}
	attrs, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("dlq arn: %v", err)
	}
	dlqARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	q, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(name),
		Attributes: map[string]string{
			"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqARN, maxReceive),
			"VisibilityTimeout": strconv.Itoa(int(visibility.Seconds())),
		},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return Queues{Name: name, URL: *q.QueueUrl, DLQURL: *dlq.QueueUrl}
}

// NewTopicWithProbe creates an SNS topic and a probe queue subscribed to it (raw delivery),
// so a test can read what was published.
func (e *Env) NewTopicWithProbe(t testing.TB) (topicARN, probeURL string) {
	t.Helper()
	ctx := context.Background()
	name := Name(t)
	tp, err := e.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	q, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-probe")})
	if err != nil {
		t.Fatalf("create probe queue: %v", err)
	}
	attrs, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("probe arn: %v", err)
	}
	if _, err := e.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: tp.TopicArn, Protocol: aws.String("sqs"),
		Endpoint:   aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatalf("subscribe probe: %v", err)
	}
	return *tp.TopicArn, *q.QueueUrl
}

// PutSecret creates a Secrets Manager secret holding value and returns its ARN.
func (e *Env) PutSecret(t testing.TB, value string) string {
	t.Helper()
	out, err := e.SM.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(Name(t)), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return *out.ARN
}

// Receive reads up to max messages from url, waiting at most wait for the first, with
// all system attributes. It does not delete them.
func (e *Env) Receive(t testing.TB, url string, max int, wait time.Duration) []sqstypes.Message {
	t.Helper()
	deadline := time.Now().Add(wait)
	var got []sqstypes.Message
	for len(got) < max {
		out, err := e.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: int32(min(10, max-len(got))),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			WaitTimeSeconds:             1,
		})
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		got = append(got, out.Messages...)
		if time.Now().After(deadline) {
			break
		}
	}
	return got
}
