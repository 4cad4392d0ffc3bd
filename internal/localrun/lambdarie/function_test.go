package lambdarie_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/procs"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestFunctionColdStartFailure(t *testing.T) {
	spec := testenv.EchoSpec(t)
	spec.Env["ECHO_EXIT_AT_START"] = "1" // like a service missing a required variable
	fn := testenv.StartEcho(t, spec, 1)
	res, err := fn.Invoke(context.Background(), []byte(`{}`))
	require.NoError(t, err)
	require.NotNil(t, res.Error)
	assert.Equal(t, "Runtime.ExitError", res.Error.Type)
	assert.Contains(t, res.Error.Message, fn.LogPath())
}

func TestFunctionErrorsAndTimeouts(t *testing.T) {
	fn := testenv.StartEcho(t, testenv.EchoSpec(t), 1)
	ctx := context.Background()
	ok := func(extra string) *lambdarie.Result {
		res, err := fn.Invoke(ctx, []byte(`{"httpMethod":"GET","headers":{`+extra+`}}`))
		require.NoError(t, err)
		return res
	}
	assert.Nil(t, ok(``).Error)
	res := ok(`"x-echo-error":"boom"`)
	require.NotNil(t, res.Error)
	assert.Equal(t, &lambdarie.FunctionError{Type: "errorString", Message: "boom"}, res.Error)
	res = ok(`"x-echo-sleep":"5s"`)
	require.NotNil(t, res.Error)
	assert.Equal(t, "Sandbox.Timedout", res.Error.Type)
	assert.Less(t, res.Duration, 4*time.Second)
	assert.Nil(t, ok(``).Error, "the runtime is re-initialized after a timeout")
}

func TestFunctionStopLeavesNoProcess(t *testing.T) {
	rt := &lambdarie.Runtime{RIE: testenv.RIE(), Env: testenv.Endpoints().SDKEnv(), LogDir: t.TempDir(), MaxInstances: 2}
	fn, err := rt.Start(context.Background(), testenv.EchoSpec(t), testenv.EchoBootstrap())
	require.NoError(t, err)
	done := make(chan struct{})
	for range 2 { // two concurrent invocations: two RIEs, each with its runtime
		go func() {
			_, _ = fn.Invoke(context.Background(), []byte(`{"httpMethod":"GET","headers":{"x-echo-sleep":"2s"}}`))
			done <- struct{}{}
		}()
	}
	// Both invocations are running once each has its RIE and runtime (however slow the machine).
	var pids []int
	require.Eventually(t, func() bool { pids = fn.Pids(); return len(pids) == 4 }, 10*time.Second, 20*time.Millisecond,
		"two RIE processes and two runtimes")
	<-done
	<-done
	fn.Stop()
	for _, p := range pids {
		assert.False(t, procs.Alive(p), "pid %d still running", p)
	}
	_, err = fn.Invoke(context.Background(), []byte(`{}`))
	assert.Error(t, err, "a stopped function is not invoked")
	log, err := os.ReadFile(filepath.Join(rt.LogDir, "Echo.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "START RequestId")
}
