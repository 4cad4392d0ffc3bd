// Command echo is the test function of the local runner's tests, run under the Lambda
// Runtime Interface Emulator like payhook's services.
//
//   - An API Gateway proxy event is answered with status 200 (or the x-echo-status
//     header's value) and a JSON body holding the event itself, so tests see the event
//     exactly as the function received it. x-echo-error makes it return an error,
//     x-echo-sleep (a Go duration) makes it sleep first (ignoring its deadline),
//     x-echo-binary answers a base64-encoded binary body, x-echo-malformed a response
//     with an unexpected field, x-echo-exit makes the runtime exit.
//   - An SQS event is answered with a batch item failure for every record whose body
//     contains "fail", and with an error (a failed batch) when one contains "crash".
//   - Anything else (a scheduled event) is answered with the event itself.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	if os.Getenv("ECHO_EXIT_AT_START") != "" {
		os.Exit(3) // a failed cold start, like a service missing its configuration
	}
	lambda.Start(handle)
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		HTTPMethod string            `json:"httpMethod"`
		Records    []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	switch {
	case probe.HTTPMethod != "":
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		return proxy(ctx, req, raw)
	case probe.Records != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		return batch(ev)
	default:
		return map[string]any{"event": raw, "env": envMap()}, nil
	}
}

func proxy(_ context.Context, req events.APIGatewayProxyRequest, raw json.RawMessage) (any, error) {
	if d, err := time.ParseDuration(header(req, "x-echo-sleep")); err == nil {
		time.Sleep(d) // deliberately deaf to ctx: a handler that overruns its timeout
	}
	if header(req, "x-echo-exit") != "" {
		os.Exit(4) // the runtime process dies mid-invocation
	}
	if msg := header(req, "x-echo-error"); msg != "" {
		return nil, errors.New(msg)
	}
	status := 200
	if s, err := strconv.Atoi(header(req, "x-echo-status")); err == nil {
		status = s
	}
	if header(req, "x-echo-binary") != "" {
		return events.APIGatewayProxyResponse{
			StatusCode:      status,
			Headers:         map[string]string{"Content-Type": "application/octet-stream"},
			Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}),
			IsBase64Encoded: true,
		}, nil
	}
	if header(req, "x-echo-malformed") != "" {
		return map[string]any{"statusCode": 200, "body": "x", "unexpected": true}, nil
	}
	body, err := json.Marshal(map[string]any{"event": raw, "pid": os.Getpid()})
	if err != nil {
		return nil, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode:        status,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Echo": "yes", "X-Both": "single"},
		MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}, "X-Both": {"m1", "m2"}},
		Body:              string(body),
	}, nil
}

// header looks a header up case-insensitively, as HTTP header names are.
func header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func batch(ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if strings.Contains(r.Body, "crash") {
			return resp, errors.New("crash requested by " + r.MessageId)
		}
		if strings.Contains(r.Body, "fail") {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

func envMap() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PAYHOOK_") || strings.HasPrefix(k, "AWS_LAMBDA_") || strings.HasPrefix(k, "ECHO_") {
			out[k] = v
		}
	}
	return out
}
