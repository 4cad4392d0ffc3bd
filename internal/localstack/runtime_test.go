package localstack

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echoSpec(t *testing.T) FunctionSpec {
	return FunctionSpec{LogicalID: "Echo", Name: "echo-" + stackName(t), MemoryMB: 128, Timeout: 2 * time.Second,
		Env: map[string]string{"PAYHOOK_SERVICE": "echo"}}
}

func TestFunctionColdStartFailure(t *testing.T) {
	spec := echoSpec(t)
	spec.Env["ECHO_EXIT_AT_START"] = "1" // like a service missing a required variable
	fn := startEcho(t, spec, 1)
	res, err := fn.Invoke(context.Background(), []byte(`{}`))
	require.NoError(t, err)
	require.NotNil(t, res.Error)
	assert.Equal(t, "Runtime.ExitError", res.Error.Type)
	assert.Contains(t, res.Error.Message, fn.LogPath())
}

func TestFunctionErrorsAndTimeouts(t *testing.T) {
	fn := startEcho(t, echoSpec(t), 1)
	ctx := context.Background()
	ok := func(extra string) *Result {
		res, err := fn.Invoke(ctx, []byte(`{"httpMethod":"GET","headers":{`+extra+`}}`))
		require.NoError(t, err)
		return res
	}
	assert.Nil(t, ok(``).Error)
	res := ok(`"x-echo-error":"boom"`)
	require.NotNil(t, res.Error)
	assert.Equal(t, &FunctionError{Type: "errorString", Message: "boom"}, res.Error)
	res = ok(`"x-echo-sleep":"5s"`)
	require.NotNil(t, res.Error)
	assert.Equal(t, "Sandbox.Timedout", res.Error.Type)
	assert.Less(t, res.Duration, 4*time.Second)
	assert.Nil(t, ok(``).Error, "the runtime is re-initialized after a timeout")
}

func TestFunctionStopLeavesNoProcess(t *testing.T) {
	rt := &Runtime{RIE: testEnv.rie, Env: testEnv.endpoints.SDKEnv(), LogDir: t.TempDir(), MaxInstances: 2}
	fn, err := rt.Start(context.Background(), echoSpec(t), testEnv.echo)
	require.NoError(t, err)
	done := make(chan struct{})
	for range 2 { // two concurrent invocations: two RIEs, each with its runtime
		go func() {
			_, _ = fn.Invoke(context.Background(), []byte(`{"httpMethod":"GET","headers":{"x-echo-sleep":"300ms"}}`))
			done <- struct{}{}
		}()
	}
	time.Sleep(150 * time.Millisecond)
	pids := fn.Pids()
	assert.Len(t, pids, 4, "two RIE processes and two runtimes")
	<-done
	<-done
	fn.Stop()
	for _, p := range pids {
		assert.False(t, Alive(p), "pid %d still running", p)
	}
	_, err = fn.Invoke(context.Background(), []byte(`{}`))
	assert.Error(t, err, "a stopped function is not invoked")
	log, err := os.ReadFile(filepath.Join(rt.LogDir, "Echo.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "START RequestId")
}

func TestErrorDocument(t *testing.T) {
	assert.Nil(t, errorDocument([]byte(`{"statusCode":200}`)))
	assert.Nil(t, errorDocument([]byte(`null`)))
	assert.Nil(t, errorDocument([]byte(`{"errorType":"x","errorMessage":"y","other":1}`)))
	assert.Equal(t, &FunctionError{Type: "x", Message: "y"}, errorDocument([]byte(`{"errorType":"x","errorMessage":"y","stackTrace":[]}`)))
	fe := errorDocument([]byte("Task timed out after 5.00 seconds"))
	require.NotNil(t, fe)
	assert.Equal(t, "Sandbox.Timedout", fe.Type)
	b, _ := json.Marshal(fe)
	assert.JSONEq(t, `{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 5.00 seconds"}`, string(b))
}

func TestFunctionEnv(t *testing.T) {
	env := functionEnv(FunctionSpec{Name: "fn", MemoryMB: 256, Timeout: 7 * time.Second,
		Env: map[string]string{"AWS_REGION": "eu-west-1", "TABLE_NAME": "t"}}, "/x/ingest/bootstrap",
		Endpoints{Region: "us-east-1", DynamoDB: "http://d", Queues: "http://q", SecretsManager: "http://s"}.SDKEnv())
	assert.Contains(t, env, "AWS_LAMBDA_FUNCTION_NAME=fn")
	assert.Contains(t, env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256")
	assert.Contains(t, env, "AWS_LAMBDA_FUNCTION_TIMEOUT=7")
	assert.Contains(t, env, "AWS_ENDPOINT_URL_DYNAMODB=http://d")
	assert.Contains(t, env, "AWS_ENDPOINT_URL_SNS=http://q")
	assert.Contains(t, env, "AWS_REGION=eu-west-1", "the function's own variables win")
	assert.Contains(t, env, "TABLE_NAME=t")
	assert.Contains(t, env, "LAMBDA_TASK_ROOT=/x/ingest")
	for _, kv := range env {
		assert.NotContains(t, kv, "HOME=", "nothing of this process's environment leaks in")
	}
}
