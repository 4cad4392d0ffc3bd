package apigw_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// apiFixture provisions the payments fixture, runs the echo function in place of the
// ingest service (with a 1 s timeout) and serves the API.
type apiFixture struct {
	stack  *provision.Stack
	api    apigw.API
	server *apigw.Server
	key    apigw.APIKey
	url    string // the stage's /webhooks URL
	fn     *lambdarie.Function
}

func newAPIFixture(t *testing.T, adjust func(*apigw.API)) *apiFixture {
	t.Helper()
	st := testenv.Provision(t, "payhook-local-Payments.template.json", provision.Options{})
	spec, ok := st.Function("IngressHandlerFunctionA0B1C2D3")
	require.True(t, ok)
	spec.Timeout = time.Second
	fn := testenv.StartEcho(t, spec, 4)
	api := st.APIs[0]
	if adjust != nil {
		adjust(&api)
	}
	srv := apigw.NewServer(api, map[string]lambdarie.Invoker{spec.LogicalID: fn}, st.Region, st.Account)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close(t.Context()) })
	return &apiFixture{stack: st, api: api, server: srv, key: api.UsagePlans[0].Keys[0],
		url: srv.StageURL("v1") + "/webhooks", fn: fn}
}

func TestServerRefusesNonLoopbackAddress(t *testing.T) {
	srv := apigw.NewServer(apigw.API{LogicalID: "Api"}, nil, "us-east-1", "000000000000")
	err := srv.Start(":0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loopback only")
}

func (f *apiFixture) do(t *testing.T, method, url string, body []byte, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

type echoed struct {
	Event events.APIGatewayProxyRequest `json:"event"`
	Raw   map[string]json.RawMessage    `json:"-"`
	Pid   int                           `json:"pid"`
}

func decodeEcho(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	var raw struct {
		Event map[string]json.RawMessage `json:"event"`
	}
	require.NoError(t, json.Unmarshal(body, &raw))
	e.Raw = raw.Event
	return e
}

func TestServer(t *testing.T) {
	f := newAPIFixture(t, nil)
	key := map[string]string{"x-api-key": f.key.Value, "Content-Type": "application/json"}

	t.Run("unknown path, method or stage", func(t *testing.T) {
		resp, body := f.do(t, "POST", f.server.StageURL("v1")+"/nope", []byte("{}"), key)
		assert.Equal(t, 403, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Missing Authentication Token"}`, string(body))
		assert.Equal(t, "MissingAuthenticationTokenException", resp.Header.Get("x-amzn-ErrorType"))
		resp, body = f.do(t, "GET", f.url, nil, key)
		assert.Equal(t, 403, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Missing Authentication Token"}`, string(body))
		resp, body = f.do(t, "POST", f.server.URL()+"/prod/webhooks", []byte("{}"), key)
		assert.Equal(t, 403, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Forbidden"}`, string(body))
	})

	t.Run("API key required", func(t *testing.T) {
		resp, body := f.do(t, "POST", f.url, []byte("{}"), nil)
		assert.Equal(t, 403, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Forbidden"}`, string(body))
		resp, body = f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": "wrong"})
		assert.Equal(t, 403, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Forbidden"}`, string(body))
	})

	t.Run("proxy event as API Gateway builds it", func(t *testing.T) {
		req, err := http.NewRequest("POST", f.url+"?a=1&a=2&b=3", strings.NewReader(`{"amount":"1.00"}`))
		require.NoError(t, err)
		req.Header.Set("x-api-key", f.key.Value)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add("Webhook-Signature", "v1,one")
		req.Header.Add("Webhook-Signature", "v1,two")
		req.Header.Set("User-Agent", "payhook-test")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, string(body))

		// The function's headers and multi-value headers come back.
		assert.Equal(t, "yes", resp.Header.Get("X-Echo"))
		assert.Equal(t, []string{"a=1", "b=2"}, resp.Header.Values("Set-Cookie"))
		assert.Equal(t, []string{"m1", "m2"}, resp.Header.Values("X-Both"), "multiValueHeaders win over headers")
		assert.NotEmpty(t, resp.Header.Get("x-amzn-RequestId"))

		e := decodeEcho(t, body)
		ev := e.Event
		assert.Equal(t, "/webhooks", ev.Resource)
		assert.Equal(t, "/webhooks", ev.Path)
		assert.Equal(t, "POST", ev.HTTPMethod)
		assert.Equal(t, `{"amount":"1.00"}`, ev.Body)
		assert.False(t, ev.IsBase64Encoded)
		assert.Equal(t, "v1,two", ev.Headers["webhook-signature"])
		assert.Equal(t, []string{"v1,one", "v1,two"}, ev.MultiValueHeaders["webhook-signature"])
		assert.Equal(t, "application/json", ev.Headers["content-type"])
		assert.Equal(t, "127.0.0.1", ev.Headers["x-forwarded-for"])
		assert.Equal(t, "http", ev.Headers["x-forwarded-proto"])
		assert.Contains(t, ev.Headers["x-amzn-trace-id"], "Root=1-")
		assert.Equal(t, map[string]string{"a": "2", "b": "3"}, ev.QueryStringParameters)
		assert.Equal(t, map[string][]string{"a": {"1", "2"}, "b": {"3"}}, ev.MultiValueQueryStringParameters)
		assert.JSONEq(t, "null", string(e.Raw["pathParameters"]))
		assert.JSONEq(t, "null", string(e.Raw["stageVariables"]))

		rc := ev.RequestContext
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, rc.RequestID)
		assert.Equal(t, resp.Header.Get("x-amzn-RequestId"), rc.RequestID)
		assert.Equal(t, "v1", rc.Stage)
		assert.Equal(t, f.api.ID, rc.APIID)
		assert.Equal(t, "000000000000", rc.AccountID)
		assert.Equal(t, "/webhooks", rc.ResourcePath)
		assert.Equal(t, "/v1/webhooks", rc.Path)
		assert.Equal(t, "POST", rc.HTTPMethod)
		assert.Equal(t, "HTTP/1.1", rc.Protocol)
		assert.Equal(t, f.key.Value, rc.Identity.APIKey)
		assert.Equal(t, f.key.ID, rc.Identity.APIKeyID)
		assert.Equal(t, "127.0.0.1", rc.Identity.SourceIP)
		assert.Equal(t, "payhook-test", rc.Identity.UserAgent)
		assert.NotEmpty(t, rc.ResourceID)
		assert.InDelta(t, time.Now().UnixMilli(), rc.RequestTimeEpoch, 5000)
	})

	t.Run("binary bodies are base64-encoded", func(t *testing.T) {
		payload := []byte{0x00, 0xff, 0x10, 'a'}
		resp, body := f.do(t, "POST", f.url, payload, map[string]string{"x-api-key": f.key.Value, "Content-Type": "application/octet-stream"})
		require.Equal(t, 200, resp.StatusCode, string(body))
		ev := decodeEcho(t, body).Event
		assert.True(t, ev.IsBase64Encoded)
		assert.Equal(t, "AP8QYQ==", ev.Body)

		resp, body = f.do(t, "POST", f.url, nil, map[string]string{"x-api-key": f.key.Value})
		require.Equal(t, 200, resp.StatusCode, string(body))
		e := decodeEcho(t, body)
		assert.JSONEq(t, "null", string(e.Raw["body"]), "an empty body is null")
		assert.False(t, e.Event.IsBase64Encoded)
	})

	t.Run("function status, binary response, error, timeout", func(t *testing.T) {
		resp, _ := f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-status": "409"})
		assert.Equal(t, 409, resp.StatusCode)

		resp, body := f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-binary": "1"})
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, []byte{0, 1, 2, 255}, body)
		assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))

		resp, body = f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-malformed": "1"})
		assert.Equal(t, 502, resp.StatusCode, "a malformed Lambda proxy response")
		assert.JSONEq(t, `{"message":"Internal server error"}`, string(body))

		resp, body = f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-error": "boom"})
		assert.Equal(t, 502, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Internal server error"}`, string(body))

		start := time.Now()
		resp, body = f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-sleep": "3s"})
		assert.Equal(t, 502, resp.StatusCode, "the function's 1 s timeout")
		assert.JSONEq(t, `{"message":"Internal server error"}`, string(body))
		assert.Less(t, time.Since(start), 2500*time.Millisecond)

		resp, body = f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-exit": "1"})
		assert.Equal(t, 502, resp.StatusCode, "the runtime exits mid-invocation")
		assert.JSONEq(t, `{"message":"Internal server error"}`, string(body))

		resp, _ = f.do(t, "POST", f.url, []byte("{}"), key)
		assert.Equal(t, 200, resp.StatusCode, "a fresh runtime serves the next request")
	})

	t.Run("body limit", func(t *testing.T) {
		resp, body := f.do(t, "POST", f.url, bytes.Repeat([]byte("a"), apigw.MaxPayloadBytes+1), key)
		assert.Equal(t, 413, resp.StatusCode)
		assert.JSONEq(t, `{"message":"Request Too Long"}`, string(body))
	})

	t.Run("concurrent requests run in parallel environments", func(t *testing.T) {
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		pids := make([]int, 8)
		start := time.Now()
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body := f.do(t, "POST", f.url, []byte("{}"), map[string]string{"x-api-key": f.key.Value, "x-echo-sleep": "300ms"})
				statuses[i] = resp.StatusCode
				if resp.StatusCode == 200 {
					pids[i] = decodeEcho(t, body).Pid
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		for _, s := range statuses {
			assert.Equal(t, 200, s)
		}
		distinct := map[int]bool{}
		for _, p := range pids {
			distinct[p] = true
		}
		assert.Len(t, distinct, 4, "four execution environments (MaxInstances)")
		assert.Less(t, elapsed, 2*time.Second, "8 × 300 ms on 4 environments")
	})
}

func TestServerThrottleAndQuota(t *testing.T) {
	f := newAPIFixture(t, func(a *apigw.API) {
		a.UsagePlans[0].Throttle = &apigw.Throttle{RateLimit: 0.5, BurstLimit: 2}
		a.UsagePlans[0].Quota = &apigw.Quota{Limit: 3, Period: "DAY"}
	})
	key := map[string]string{"x-api-key": f.key.Value}
	var got []int
	for range 3 {
		resp, _ := f.do(t, "POST", f.url, []byte("{}"), key)
		got = append(got, resp.StatusCode)
	}
	assert.Equal(t, []int{200, 200, 429}, got, "burst of 2")
	resp, body := f.do(t, "POST", f.url, []byte("{}"), key)
	assert.Equal(t, 429, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Too Many Requests"}`, string(body))

	time.Sleep(2100 * time.Millisecond) // one token at 0.5/s
	resp, _ = f.do(t, "POST", f.url, []byte("{}"), key)
	assert.Equal(t, 200, resp.StatusCode)
	time.Sleep(2100 * time.Millisecond)
	resp, body = f.do(t, "POST", f.url, []byte("{}"), key)
	assert.Equal(t, 429, resp.StatusCode, "quota of 3 a day")
	assert.JSONEq(t, `{"message":"Limit Exceeded"}`, string(body))
}

func TestServerLowerCasesHeaderNames(t *testing.T) {
	f := newAPIFixture(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.server.URL(), "http://"))
	require.NoError(t, err)
	defer conn.Close()
	rd := bufio.NewReader(conn)
	send := func(head, body string) echoed {
		t.Helper()
		_, err := io.WriteString(conn, head+"\r\n"+body)
		require.NoError(t, err)
		resp, err := http.ReadResponse(rd, nil)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, string(b))
		return decodeEcho(t, b)
	}
	host := strings.TrimPrefix(f.server.URL(), "http://")
	// Whatever the client's spelling, on one keep-alive connection (Content-Length,
	// then chunked), the function sees lower-case names only.
	e := send("POST /v1/webhooks HTTP/1.1\r\nhost: "+host+"\r\nx-api-key: "+f.key.Value+
		"\r\nWebhook-Id: msg_1\r\nCONTENT-TYPE: application/json\r\ncontent-length: 2\r\n", "{}")
	assert.Equal(t, "msg_1", e.Event.Headers["webhook-id"])
	assert.Equal(t, f.key.Value, e.Event.Headers["x-api-key"])
	assert.Equal(t, []string{"application/json"}, e.Event.MultiValueHeaders["content-type"])
	assert.Equal(t, host, e.Event.Headers["host"])

	e = send("POST /v1/webhooks HTTP/1.1\r\nHost: "+host+"\r\nX-API-KEY: "+f.key.Value+
		"\r\nSTRIPE-SIGNATURE: t=1,v1=abc\r\nTransfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n")
	assert.Equal(t, "t=1,v1=abc", e.Event.Headers["stripe-signature"])
	assert.Equal(t, f.key.Value, e.Event.Headers["x-api-key"])
	assert.Equal(t, "{}", e.Event.Body)
	for k := range e.Event.Headers {
		assert.Equal(t, strings.ToLower(k), k, "header name %q", k)
	}
	for k := range e.Event.MultiValueHeaders {
		assert.Equal(t, strings.ToLower(k), k, "multi-value header name %q", k)
	}
}
