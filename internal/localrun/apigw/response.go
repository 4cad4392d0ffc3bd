package apigw

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/payhook/payhook/internal/localrun/randid"
)

// gatewayError answers as API Gateway's default gateway responses do.
func gatewayError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", errType)
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{\"message\":%q}", message)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// writeProxyResponse writes a Lambda proxy integration response.
func writeProxyResponse(w http.ResponseWriter, payload []byte) error {
	resp, err := parseProxyResponse(payload)
	if err != nil {
		return err
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("isBase64Encoded body is not base64: %w", err)
		}
		body = b
	}
	// API Gateway merges headers into multiValueHeaders; a name present in both keeps
	// the multiValueHeaders values only.
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if _, both := h[http.CanonicalHeaderKey(k)]; !both {
			h.Set(k, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// parseProxyResponse reads a Lambda proxy response as API Gateway does: a JSON object with
// a statusCode and no other fields than the format's.
func parseProxyResponse(payload []byte) (*events.APIGatewayProxyResponse, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("response is not a JSON object: %w", err)
	}
	for k := range probe {
		switch k {
		case "statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded":
		default:
			return nil, fmt.Errorf("response has the unexpected field %q", k)
		}
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, fmt.Errorf("response does not match the proxy response format: %w", err)
	}
	if _, ok := probe["statusCode"]; !ok {
		return nil, errors.New("response has no statusCode")
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return nil, fmt.Errorf("statusCode %d is not an HTTP status", resp.StatusCode)
	}
	return &resp, nil
}

// apigwID is an id shaped like API Gateway's x-amz-apigw-id / extendedRequestId.
func apigwID() string {
	return base64.StdEncoding.EncodeToString(randid.Bytes(12))[:15] + "="
}
