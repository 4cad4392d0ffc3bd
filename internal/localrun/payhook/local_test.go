package payhook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/procs"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
)

// TestLocalRunsThePaymentsStack starts the fixture stack with the real services, sends a
// webhook through the API to accounting, survives a restart of the queue emulator and
// leaves no process behind.
func TestLocalRunsThePaymentsStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second set of emulators and the real services")
	}
	logOut := io.Discard
	if os.Getenv("PAYHOOK_FUNCTION_LOGS") != "" {
		logOut = os.Stderr
	}
	ctx := context.Background()
	l, err := localrun.Start(ctx, localrun.Config{
		Template: testenv.Fixture("payhook-local-Payments.template.json"),
		App:      App{},
		WorkDir:  testenv.WorkDir(),
		Root:     testenv.Root(),
		Log:      slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			l.Stop()
		}
	}()
	t.Logf("started in %s: %v", l.Startup, l.Timings)

	st := l.State()
	assert.True(t, st.Running)
	assert.True(t, strings.HasSuffix(st.Endpoint, "/v1/webhooks"), st.Endpoint)
	assert.Len(t, st.APIKey, 40)
	require.Len(t, st.Providers, 3)
	assert.Equal(t, l.Stack.Tables[0].Name, st.Table)
	q, _ := l.Stack.Queue("WorkerQueue5D6E7F8A")
	dlq, _ := l.Stack.Queue("WorkerDeadLetterQueue3E2F1A0B")
	assert.Equal(t, q.URL, st.QueueURL)
	assert.Equal(t, dlq.URL, st.DLQURL)
	assert.Equal(t, l.Stack.Topics[0].ARN, st.TopicARN)
	assert.Len(t, st.Functions, 4)
	assert.NotEmpty(t, st.Pids["dynamodb"])
	assert.NotEmpty(t, st.Pids["fauxqs"])
	assert.Equal(t, st.Endpoint, st.Outputs["WebhookUrl"], "execute-api URLs point at the local server")

	var accounting *sqspoll.Poller
	for _, p := range l.Pollers {
		if f, _ := l.Stack.Function(p.Source.Function); f.Service == "accounting" {
			accounting = p
		}
	}
	require.NotNil(t, accounting)

	post := func(tx string) (int, string) {
		body := fmt.Sprintf(`{"transaction_id":%q,"amount":"12.34","currency":"USD","provider":"legacy"}`, tx)
		req, err := http.NewRequest("POST", st.Endpoint, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("x-api-key", st.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitDeleted := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for accounting.Stats().Deleted < n && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		require.GreaterOrEqual(t, accounting.Stats().Deleted, n, "accounting consumed the message")
	}

	code, body := post("tx_local_e2e_1")
	require.Equal(t, 200, code, body)
	assert.Contains(t, body, `"accepted"`)
	waitDeleted(1)
	code, body = post("tx_local_e2e_1")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"duplicate"`)

	// The queue emulator dies: the watchdog restarts it on the same port and re-creates
	// the queues; ingest answers 503 meanwhile and 200 again afterwards.
	require.NotEmpty(t, l.Pids()["fauxqs"])
	require.NoError(t, syscall.Kill(-l.Pids()["fauxqs"][0], syscall.SIGKILL))
	var codes []int
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		code, body = post("tx_local_e2e_2")
		codes = append(codes, code)
		if code == 200 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Equal(t, 200, code, "codes while the queue emulator restarted: %v, last body %s", codes, body)
	t.Logf("ingest answered %v while the queue emulator restarted", codes)
	waitDeleted(2)

	pids := l.Pids()
	l.Stop()
	stopped = true
	for role, ps := range pids {
		for _, p := range ps {
			if p != os.Getpid() {
				assert.False(t, procs.Alive(p), "%s pid %d still running after Stop", role, p)
			}
		}
	}
}
