package sqspoll_test

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// pollerFixture provisions the small poller template (visibility 2 s, maxReceiveCount
// 2) and runs the echo function, which fails records containing "fail" and the whole
// batch when one contains "crash".
func pollerFixture(t *testing.T) (*provision.Stack, sqspoll.EventSource, *lambdarie.Function) {
	t.Helper()
	st := testenv.Provision(t, "echo-Poller.template.json", provision.Options{})
	require.Len(t, st.EventSources, 1)
	spec, ok := st.Function("Echo")
	require.True(t, ok)
	return st, st.EventSources[0], testenv.StartEcho(t, spec, 2)
}

func send(t *testing.T, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		_, err := testenv.Clients().SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
}

// drain receives (and deletes) messages from url until n arrived or timeout.
func drain(t *testing.T, url string, n int, timeout time.Duration) []string {
	t.Helper()
	var bodies []string
	deadline := time.Now().Add(timeout)
	for len(bodies) < n && time.Now().Before(deadline) {
		out, err := testenv.Clients().SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			_, err := testenv.Clients().SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	sort.Strings(bodies)
	return bodies
}

func queueDepth(t *testing.T, url string) int {
	t.Helper()
	out, err := testenv.Clients().SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	require.NoError(t, err)
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return a + b
}

func runPoller(t *testing.T, p *sqspoll.Poller) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("poller did not stop within 15 s of its context being cancelled")
		}
	}
}

func TestPollerDeletesOnlySuccesses(t *testing.T) {
	// GIVEN a queue with two good and two failing messages, and a DLQ after 2 receives
	st, es, fn := pollerFixture(t)
	q, _ := st.Queue("Queue")
	dlq, _ := st.Queue("DLQ")
	require.Equal(t, 2, q.MaxReceiveCount)
	send(t, es.QueueURL, "ok-1", "fail-2", "ok-3", "fail-4")

	// WHEN the event source mapping runs
	p := &sqspoll.Poller{Source: es, SQS: testenv.Clients().SQS, Function: fn}
	stop := runPoller(t, p)

	// THEN the failures reach the DLQ after exactly maxReceiveCount receives, and the
	// successes were deleted once
	assert.Equal(t, []string{"fail-2", "fail-4"}, drain(t, dlq.URL, 2, 15*time.Second))
	stop()
	assert.Equal(t, 0, queueDepth(t, q.URL))
	s := p.Stats()
	assert.Equal(t, 2, s.Deleted)
	assert.Equal(t, 4, s.Failed, "each failing message was received exactly twice")
	assert.Equal(t, 6, s.Messages)
	assert.Zero(t, s.FunctionErrors)
}

func TestPollerFunctionErrorDeletesNothing(t *testing.T) {
	st, es, fn := pollerFixture(t)
	dlq, _ := st.Queue("DLQ")
	es.Window = time.Second // both messages in one batch
	send(t, es.QueueURL, "ok-A", "crash-B")
	p := &sqspoll.Poller{Source: es, SQS: testenv.Clients().SQS, Function: fn}
	stop := runPoller(t, p)
	assert.Equal(t, []string{"crash-B", "ok-A"}, drain(t, dlq.URL, 2, 15*time.Second),
		"a failed batch is retried whole: the good message shares the bad one's fate")
	stop()
	s := p.Stats()
	assert.Zero(t, s.Deleted)
	assert.Equal(t, 2, s.FunctionErrors)
}

func TestPollerBatchingWindow(t *testing.T) {
	st, es, fn := pollerFixture(t)
	q, _ := st.Queue("Queue")
	es.Window = 1500 * time.Millisecond // less than the 2 s visibility timeout
	p := &sqspoll.Poller{Source: es, SQS: testenv.Clients().SQS, Function: fn, Concurrency: 1}
	stop := runPoller(t, p)
	for i := range 3 {
		send(t, es.QueueURL, "ok-"+strconv.Itoa(i))
		time.Sleep(300 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Deleted < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	s := p.Stats()
	assert.Equal(t, 3, s.Deleted)
	assert.Equal(t, 1, s.Batches, "three messages within the window make one batch")
	assert.Equal(t, 0, queueDepth(t, q.URL))
}

func TestPollerStopsPromptly(t *testing.T) {
	_, es, fn := pollerFixture(t)
	p := &sqspoll.Poller{Source: es, SQS: testenv.Clients().SQS, Function: fn}
	stop := runPoller(t, p)
	time.Sleep(300 * time.Millisecond) // inside a 20 s long poll
	start := time.Now()
	stop()
	assert.Less(t, time.Since(start), 2*time.Second)
}
