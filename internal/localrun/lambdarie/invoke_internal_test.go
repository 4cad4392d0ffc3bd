package lambdarie

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/emulators"
)

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
		emulators.SDKEnv("us-east-1", "http://d", "http://q", "http://s"))
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
