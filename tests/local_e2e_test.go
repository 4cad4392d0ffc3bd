package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	stripewebhook "github.com/stripe/stripe-go/v82/webhook"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/payhook"
	"github.com/payhook/payhook/internal/localrun/procs"
)

// The end-to-end tests run the local stack (`mage local`) from the synthesized
// envs/local.yaml template, in this process, and talk to it only over HTTP, as providers
// do, signing with the providers' own libraries; they read the results back from the
// table. Set PAYHOOK_FUNCTION_LOGS=1 to see the functions' output.

var local struct {
	once sync.Once
	l    *localrun.Local
	err  error
}

// startLocal starts the local stack once for the test binary; TestMain's teardown stops it.
func startLocal(t *testing.T) *localrun.Local {
	t.Helper()
	local.once.Do(func() {
		st := synthesized.built.Stages["local"]
		if st == nil {
			local.err = fmt.Errorf("no local stage synthesized")
			return
		}
		var fnOut io.Writer
		if os.Getenv("PAYHOOK_FUNCTION_LOGS") != "" {
			fnOut = os.Stderr
		}
		// A work directory of this test binary's own: two test runs on one machine (a CI
		// check beside a developer's run) must not share a call log or processes.
		work, err := os.MkdirTemp("", "payhook-e2e-")
		if err != nil {
			local.err = err
			return
		}
		local.l, local.err = localrun.Start(context.Background(), localrun.Config{
			Template:       filepath.Join(*st.Outdir(), *st.Payments.TemplateFile()),
			App:            payhook.App{},
			WorkDir:        work,
			Root:           "..",
			FunctionOutput: fnOut,
			Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	})
	require.NoError(t, local.err)
	return local.l
}

// stopLocal stops the shared local stack and, when every end-to-end test ran on it,
// checks the least-privilege report of their calls (leastPrivilege).
func stopLocal() error {
	if local.l == nil {
		return nil
	}
	local.l.Stop()
	report, err := leastPrivilege(local.l.Config.WorkDir)
	if report != "" {
		fmt.Fprint(os.Stderr, report)
	}
	if err == nil {
		err = os.RemoveAll(local.l.Config.WorkDir)
	}
	return err
}

type sender struct {
	t     *testing.T
	state *localrun.State
	http  *http.Client
}

func newSender(t *testing.T, l *localrun.Local) *sender {
	return &sender{t: t, state: l.State(), http: &http.Client{Timeout: 60 * time.Second}}
}

func (s *sender) provider(name string) localrun.StateProvider {
	for _, p := range s.state.Providers {
		if p.Name == name {
			return p
		}
	}
	s.t.Fatalf("no provider %s", name)
	return localrun.StateProvider{}
}

// post sends body as provider p would to the API-key route (its own path if it is keyless),
// signed with p's own library.
func (s *sender) post(p localrun.StateProvider, body []byte) (int, map[string]any) {
	url := s.state.Endpoint
	if p.Keyless {
		url += "/" + p.Name
	}
	return s.send(url, p, "", body)
}

// send posts body to url with p's own API key (none if p is keyless), signed as p signs; id
// is the Standard Webhooks message id ("" for a fresh one).
func (s *sender) send(url string, p localrun.StateProvider, id string, body []byte) (int, map[string]any) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	if p.APIKey != "" {
		req.Header.Set("x-api-key", p.APIKey)
	}
	now := time.Now()
	switch p.Scheme {
	case "standard-webhooks":
		wh, err := standardwebhooks.NewWebhook(p.Secret)
		require.NoError(s.t, err)
		if id == "" {
			id = "msg_" + strconv.FormatInt(now.UnixNano(), 36)
		}
		sig, err := wh.Sign(id, now, body)
		require.NoError(s.t, err)
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
	case "stripe":
		req.Header.Set("Stripe-Signature", stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{
			Payload: body, Secret: p.Secret, Timestamp: now}).Header)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, map[string]any{"transport_error": err.Error()}
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func body(provider, id, amount, currency string) []byte {
	b, _ := json.Marshal(map[string]string{"transaction_id": id, "amount": amount, "currency": currency, "provider": provider})
	return b
}

// record reads a transaction back from the table (its key layout is the contract of
// docs/decisions/0002-table-keys.md).
func record(t *testing.T, l *localrun.Local, provider, id string) map[string]ddbtypes.AttributeValue {
	out, err := l.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(l.State().Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "TXN#" + provider + "#" + id},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "TXN"},
		}})
	require.NoError(t, err)
	return out.Item
}

func str(item map[string]ddbtypes.AttributeValue, k string) string {
	if v, ok := item[k].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func waitStatus(t *testing.T, l *localrun.Local, provider, id, want string, timeout time.Duration) map[string]ddbtypes.AttributeValue {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		item := record(t, l, provider, id)
		if str(item, "status") == want {
			return item
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: status %q after %s, want %q", provider, id, str(item, "status"), timeout, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// total reads a provider's daily total (minor units, count) for a currency.
func total(t *testing.T, l *localrun.Local, provider, currency string) (int64, int64) {
	day := time.Now().UTC().Format("2006-01-02")
	out, err := l.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(l.State().Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "TOTAL#" + provider + "#" + day},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "CUR#" + currency},
		}})
	require.NoError(t, err)
	n := func(k string) int64 {
		v, ok := out.Item[k].(*ddbtypes.AttributeValueMemberN)
		if !ok {
			return 0
		}
		x, _ := strconv.ParseInt(v.Value, 10, 64)
		return x
	}
	return n("total_minor"), n("txn_count")
}

func runID() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

func TestLocalHappyPathEveryScheme(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	run := runID()
	for _, p := range s.state.Providers {
		if len(p.Format) > 0 {
			continue // posts events: TestLocalStripeEventStream, TestLocalStandardWebhooksEnvelopes
		}
		before, _ := total(t, l, p.Name, "JPY")
		id := "happy-" + run + "-" + p.Name
		code, ans := s.post(p, body(p.Name, id, "1500", "JPY"))
		require.Equal(t, 200, code, "%s: %v", p.Name, ans)
		assert.Equal(t, "accepted", ans["status"])
		waitStatus(t, l, p.Name, id, "accounted", 30*time.Second)
		after, _ := total(t, l, p.Name, "JPY")
		assert.Equal(t, int64(1500), after-before, "%s: JPY has no minor unit", p.Name)
	}
	code, ans := s.post(s.provider("acme"), body("acme", "happy-"+run+"-acme", "1501", "JPY"))
	assert.Equal(t, 409, code, "%v", ans)
	code, ans = s.post(s.provider("acme"), body("acme", "bad-"+run, "12.345", "USD"))
	assert.Equal(t, 400, code)
	assert.Equal(t, "amount", ans["field"])
}

// TestLocalDuplicateStorm: 200 notifications, each sent 3 times concurrently → 200
// records, totals exact to the minor unit.
func TestLocalDuplicateStorm(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	run := runID()
	p := s.provider("stripe")
	before, beforeCount := total(t, l, p.Name, "EUR")
	const n = 200
	var want int64
	type shot struct {
		id     string
		amount int64
	}
	var shots []shot
	for i := 0; i < n; i++ {
		amt := int64(101 + i*7)
		want += amt
		for k := 0; k < 3; k++ {
			shots = append(shots, shot{id: fmt.Sprintf("storm-%s-%03d", run, i), amount: amt})
		}
	}
	codes := make([]int, len(shots))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	for i, sh := range shots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			codes[i], _ = s.post(p, body(p.Name, sh.id, fmt.Sprintf("%d.%02d", sh.amount/100, sh.amount%100), "EUR"))
		}()
	}
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, 200, c, "shot %d", i)
	}
	for i := 0; i < n; i++ {
		waitStatus(t, l, p.Name, fmt.Sprintf("storm-%s-%03d", run, i), "accounted", 60*time.Second)
	}
	after, afterCount := total(t, l, p.Name, "EUR")
	assert.Equal(t, want, after-before, "totals exact to the minor unit")
	assert.Equal(t, int64(n), afterCount-beforeCount, "each notification counted once")
}

// TestLocalPoisonToDLQAndReplay makes accounting fail for real (the provider's daily total
// is one step from int64 overflow), so the message is received exactly maxReceiveCount
// times, dead-lettered, recorded as failed and alerted on SNS; once the cause is removed,
// replay gets it accounted.
func TestLocalPoisonToDLQAndReplay(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	ctx := context.Background()
	st := l.State()
	// A probe queue subscribed to the alerts topic sees what SNS delivers.
	probe, err := l.Clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("e2e-alerts-" + runID())})
	require.NoError(t, err)
	attrs, err := l.Clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: probe.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	_, err = l.Clients.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(st.TopicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}})
	require.NoError(t, err)

	// The cause: a total that cannot take another unit without overflowing.
	day := time.Now().UTC().Format("2006-01-02")
	totalKey := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "TOTAL#legacy#" + day},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "CUR#ISK"},
	}
	_, err = l.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]ddbtypes.AttributeValue{
		"pk": totalKey["pk"], "sk": totalKey["sk"],
		"total_minor": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(math.MaxInt64-10, 10)},
		"txn_count":   &ddbtypes.AttributeValueMemberN{Value: "1"}}})
	require.NoError(t, err)

	id := "poison-" + runID()
	code, ans := s.post(s.provider("legacy"), body("legacy", id, "500", "ISK"))
	require.Equal(t, 200, code, "%v", ans)
	item := waitStatus(t, l, "legacy", id, "failed", 90*time.Second)
	maxReceive := 3 // envs/local.yaml queue.max_receive_count
	assert.Equal(t, strconv.Itoa(maxReceive), item["failed_attempts"].(*ddbtypes.AttributeValueMemberN).Value,
		"accounting tried exactly maxReceiveCount times before the message was dead-lettered")
	assert.Contains(t, str(item, "failure_reason"), "overflow")
	assert.Contains(t, str(item, "failure_body"), id, "the original body is kept")

	// The alert arrived.
	var alert map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for alert == nil && time.Now().Before(deadline) {
		out, err := l.Clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: probe.QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
		require.NoError(t, err)
		for _, m := range out.Messages {
			var a map[string]any
			if json.Unmarshal([]byte(*m.Body), &a) == nil && a["transaction_id"] == id {
				alert = a
			}
		}
	}
	require.NotNil(t, alert, "an SNS alert for the dead message")
	assert.Equal(t, "legacy", alert["provider"])
	assert.Equal(t, true, alert["replayable"])

	// Remove the cause, replay, and it is accounted.
	_, err = l.Clients.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.Table), Key: totalKey})
	require.NoError(t, err)
	replay := runGo(t, "run", "./services/tools/replay", "-env", "local", "-state", writeState(t, l))
	assert.Contains(t, replay, `"sent":1`)
	waitStatus(t, l, "legacy", id, "accounted", 30*time.Second)
	got, _ := total(t, l, "legacy", "ISK")
	assert.Equal(t, int64(500), got)
}

// TestLocalDeadMessageWithoutRecordIsKept: a dead message that names no stored transaction
// (here, not even JSON) is recorded as a failure item of its own, with its body, so nothing
// that reached the dead-letter queue is dropped.
func TestLocalDeadMessageWithoutRecordIsKept(t *testing.T) {
	l := startLocal(t)
	ctx := context.Background()
	st := l.State()
	out, err := l.Clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.DLQURL),
		MessageBody: aws.String("not json " + runID())})
	require.NoError(t, err)
	key := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "FAILURE#" + aws.ToString(out.MessageId)},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "FAILURE"},
	}
	var item map[string]ddbtypes.AttributeValue
	deadline := time.Now().Add(30 * time.Second)
	for item == nil && time.Now().Before(deadline) {
		got, err := l.Clients.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: key, ConsistentRead: aws.Bool(true)})
		require.NoError(t, err)
		if len(got.Item) > 0 {
			item = got.Item
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NotNil(t, item, "notify-failures recorded the dead message")
	assert.Contains(t, str(item, "body"), "not json")
}

// TestLocalQueueOutageLosesNothing kills the SQS emulator while senders post. Senders see
// 200 or 503; the stack restarts the emulator (durable, like SQS), and afterwards every
// notification that was stored, including those whose sender got 503 and never retries,
// is accounted (the reconciler sweeps the outbox).
func TestLocalQueueOutageLosesNothing(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	run := runID()
	p := s.provider("acme")
	const n = 60
	codes := make([]int, n)
	var killed int
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if i == n/3 {
			pids := l.State().Pids["fauxqs"]
			require.NotEmpty(t, pids)
			killed = pids[0]
			require.NoError(t, syscall.Kill(killed, syscall.SIGKILL))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = s.post(p, body(p.Name, fmt.Sprintf("outage-%s-%02d", run, i), "2.50", "GBP"))
		}()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	counts := map[int]int{}
	for _, c := range codes {
		counts[c]++
	}
	t.Logf("answers during the outage: %v", counts)
	for _, c := range codes {
		assert.Contains(t, []int{200, 503}, c, "never another status; never 200 without the message on the queue")
	}
	assert.NotZero(t, counts[200])
	// The outage happened mid-run: the stack runs a new SQS emulator. (How many senders
	// hit the gap, and so got 503, depends on how fast it came back; the services' own
	// outage test forces that path deterministically.)
	now := l.State().Pids["fauxqs"]
	require.NotEmpty(t, now, "the SQS emulator is back")
	assert.NotEqual(t, killed, now[0], "the SQS emulator was restarted")
	// Every notification stored must become accounted, without any sender retrying.
	deadline := time.Now().Add(150 * time.Second)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("outage-%s-%02d", run, i)
		for {
			item := record(t, l, p.Name, id)
			if item == nil && codes[i] == 503 {
				break // refused before it was stored: the sender knows it failed
			}
			require.NotNil(t, item, "%s answered %d but is not stored", id, codes[i])
			if str(item, "status") == "accounted" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s (answered %d) is %q, not accounted, after the outage", id, codes[i], str(item, "status"))
			}
			time.Sleep(time.Second)
		}
	}
}

// writeState writes the running stack's state file, as `mage local` does, for the tools.
func writeState(t *testing.T, l *localrun.Local) string {
	path := filepath.Join(t.TempDir(), "local.json")
	require.NoError(t, localrun.WriteState(path, l.State()))
	return path
}

// runGo runs a go command in the project root and returns its output.
func runGo(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %v:\n%s", args, out)
	return string(out)
}

// TestLocalCtrlCLeavesNoProcess runs payhook-local as `mage local` does and presses Ctrl-C
// (SIGINT): it exits 0 and none of the processes it listed in its state file is alive.
func TestLocalCtrlCLeavesNoProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "payhook-local")
	runGo(t, "build", "-o", bin, "./cmd/payhook-local")
	work := t.TempDir()
	state := filepath.Join(t.TempDir(), "local.json")
	st := synthesized.built.Stages["local"]
	cmd := exec.Command(bin, "-template", filepath.Join(*st.Outdir(), *st.Payments.TemplateFile()), "-workdir", work, "-state", state)
	cmd.Dir = ".."
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { // a failed require below must not leave it (and its emulators) running
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	var running *localrun.State
	deadline := time.Now().Add(90 * time.Second)
	for running == nil && time.Now().Before(deadline) {
		if s, err := localrun.ReadState(state); err == nil && s != nil && s.Running {
			running = s
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if running == nil {
		_ = cmd.Process.Kill()
		t.Fatalf("payhook-local did not start:\n%s", out.String())
	}
	var pids []int
	for role, ps := range running.Pids {
		if role != "payhook-local" {
			pids = append(pids, ps...)
		}
	}
	require.NotEmpty(t, pids)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	require.NoError(t, cmd.Wait(), "exit status after Ctrl-C:\n%s", out.String())
	assert.Contains(t, out.String(), "no process left")
	for _, pid := range pids {
		assert.False(t, procs.Alive(pid), "pid %d alive after Ctrl-C", pid)
	}
	after, err := localrun.ReadState(state)
	require.NoError(t, err)
	require.NotNil(t, after, "state file kept after Ctrl-C:\n%s", out.String())
	assert.False(t, after.Running)
	assert.Empty(t, after.Pids)
}

// TestLocalSmokeTouchesOnlyTheSmokeProvider runs the smoke test exactly as the pipeline's
// smoke step does (PAYHOOK_PROVIDERS names the smoke provider alone): it passes, the smoke
// provider's total moves, and no real provider's total does.
func TestLocalSmokeTouchesOnlyTheSmokeProvider(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	smoke := s.provider(contract.SmokeProvider)
	require.NotEmpty(t, smoke.Secret, "the smoke provider has its own local secret")
	type totals struct{ minor, count int64 }
	read := func() map[string]totals {
		out := map[string]totals{}
		for _, p := range s.state.Providers {
			m, c := total(t, l, p.Name, "EUR")
			out[p.Name] = totals{m, c}
		}
		return out
	}
	before := read()
	t.Setenv("PAYHOOK_PROVIDERS", contract.SmokeProvidersSpec())
	out := runGo(t, "run", "./services/tools/smoke", "-env", "local", "-state", writeState(t, l))
	assert.Contains(t, out, "("+contract.SmokeProvider+")")
	after := read()
	for name, b := range before {
		if name == contract.SmokeProvider {
			assert.Greater(t, after[name].minor, b.minor, "the smoke provider's own total moved")
			continue
		}
		assert.Equal(t, b, after[name], "%s's totals are untouched by the smoke test", name)
	}
}
