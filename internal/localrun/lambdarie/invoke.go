package lambdarie

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Invoker invokes a function synchronously (RequestResponse).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (*Result, error)
}

// Result is the outcome of an invocation that reached the function.
type Result struct {
	// Payload is the function's response, or its error document.
	Payload []byte
	// Error is set when the function failed (Lambda's X-Amz-Function-Error: Unhandled):
	// it returned an error, panicked, timed out or its runtime exited.
	Error *FunctionError
	// Duration is how long the invocation took, queueing for an instance included.
	Duration time.Duration
}

// FunctionError is a failed invocation, as Lambda reports it.
type FunctionError struct {
	// Type is errorType, e.g. errorString, Sandbox.Timedout or Runtime.ExitError.
	Type string `json:"errorType"`
	// Message is errorMessage.
	Message string `json:"errorMessage"`
}

// Error is "<errorType>: <errorMessage>".
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Invoke runs the function once with payload, as a synchronous (RequestResponse)
// invocation through the RIE. A function error is reported in Result.Error; an error
// return means the invocation did not reach a working runtime.
func (f *Function) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	start := time.Now()
	in, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	// The RIE enforces the function timeout itself; the margin covers a cold start.
	ictx, cancel := context.WithTimeout(ctx, f.Spec.Timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ictx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		f.release(in, false)
		return nil, fmt.Errorf("invoke %s: %w", f.Spec.LogicalID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rieClient.Do(req)
	if err != nil {
		// The RIE died or hung: replace the process.
		f.release(in, true)
		return nil, fmt.Errorf("invoke %s: runtime interface emulator: %w", f.Spec.LogicalID, err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		f.release(in, true)
		return nil, fmt.Errorf("invoke %s: read response: %w", f.Spec.LogicalID, err)
	}
	f.release(in, false)
	res := &Result{Payload: body, Duration: time.Since(start)}
	switch {
	case resp.StatusCode == http.StatusOK:
		res.Error = errorDocument(body)
	case resp.StatusCode == http.StatusBadGateway:
		// The runtime exited during init or the invocation.
		res.Error = errorDocument(body)
		if res.Error == nil {
			res.Error = &FunctionError{Type: "Runtime.ExitError", Message: "the function's runtime exited during initialization; see " + f.LogPath()}
			res.Payload, _ = json.Marshal(res.Error)
		}
	default:
		return nil, fmt.Errorf("invoke %s: runtime interface emulator answered %d: %s", f.Spec.LogicalID, resp.StatusCode, truncate(body, 200))
	}
	return res, nil
}

var rieClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}}

// errorDocument recognizes the RIE's function error payloads: the runtime's error
// document ({"errorType", "errorMessage"[, "stackTrace"]}) and its timeout message. The
// RIE answers both with 200, unlike Lambda, which flags them with X-Amz-Function-Error;
// a function that returns exactly such a document as its result is therefore also
// taken for a failure.
func errorDocument(body []byte) *FunctionError {
	trimmed := bytes.TrimSpace(body)
	if bytes.HasPrefix(trimmed, []byte("Task timed out after")) {
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(trimmed)}
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		return nil
	}
	if _, ok := doc["errorType"]; !ok {
		return nil
	}
	if _, ok := doc["errorMessage"]; !ok {
		return nil
	}
	for k := range doc {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" && k != "requestId" {
			return nil
		}
	}
	var fe FunctionError
	if err := json.Unmarshal(trimmed, &fe); err != nil {
		return nil
	}
	return &fe
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
