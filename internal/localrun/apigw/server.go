package apigw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// API Gateway limits that the local server applies as the real service does.
const (
	// MaxPayloadBytes is API Gateway's request payload limit (10 MB).
	MaxPayloadBytes = 10 << 20
	// IntegrationTimeout is API Gateway's default integration timeout (29 s).
	IntegrationTimeout = 29 * time.Second
)

// Server serves one REST API on 127.0.0.1 as API Gateway serves it with Lambda proxy
// integrations, at http://127.0.0.1:PORT/<stage>/<path>:
//
//   - only the template's methods and paths exist: anything else is 403
//     {"message":"Missing Authentication Token"}, as API Gateway answers for an
//     undefined resource or method (an unknown stage is 403 {"message":"Forbidden"});
//   - a method with ApiKeyRequired needs an x-api-key header holding an enabled key of a
//     usage plan that covers the stage, else 403 {"message":"Forbidden"};
//   - the stage's default method throttle and the usage plan's per-key throttle are
//     token buckets (429 {"message":"Too Many Requests"}); the plan's quota counts per
//     key and period (429 {"message":"Limit Exceeded"});
//   - bodies over 10 MB are 413 {"message":"Request Too Long"};
//   - the function receives events.APIGatewayProxyRequest as API Gateway builds it, and
//     its statusCode, headers, multiValueHeaders and body (base64-decoded when flagged)
//     are the HTTP response; a function error, a timeout or a malformed response (any
//     other field, a non-string body, no statusCode) is 502
//     {"message": "Internal server error"}; a function still running after 29 s is 504
//     {"message": "Endpoint request timed out"}.
//
// Header names reach the function lower-cased (x-api-key, stripe-signature), as API
// Gateway passes them for HTTP/2 clients; a function must match header names without
// regard to case (on AWS, an HTTP/1.1 client's names reach it as spelled).
//
// Differences from API Gateway: an HTTP/1.1 client's header names are lower-cased too
// (API Gateway passes them as the client spelled them); when the API declares no
// binaryMediaTypes, a body whose Content-Type is not textual (text/*, JSON, XML, form,
// JavaScript) or that is not UTF-8 is passed base64-encoded with isBase64Encoded set
// (API Gateway would pass it as text); WAF, resource policies, authorizers and custom
// gateway responses are not applied.
type Server struct {
	// API is the REST API served.
	API API
	// Functions invokes the integrated functions, by logical id.
	Functions map[string]lambdarie.Invoker
	// Region and Account fill the request context.
	Region, Account string
	// Log receives one line per request (nil: slog.Default()).
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Timeout is the integration timeout (IntegrationTimeout when zero).
	Timeout time.Duration

	srv *http.Server
	ln  net.Listener

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	quotas   map[string]*quotaCounter
}

// NewServer returns a server for api whose routes invoke functions.
func NewServer(api API, functions map[string]lambdarie.Invoker, region, account string) *Server {
	return &Server{API: api, Functions: functions, Region: region, Account: account}
}

// Start listens on addr ("127.0.0.1:0" for a free port; loopback only) and serves in the
// background.
func (s *Server) Start(addr string) error {
	if err := emulators.CheckLoopback(addr); err != nil {
		return fmt.Errorf("API %s: %w", s.API.LogicalID, err)
	}
	for _, r := range s.API.Routes {
		if s.Functions[r.Function] == nil {
			return fmt.Errorf("API %s: route %s %s: function %s is not running", s.API.LogicalID, r.Method, r.Path, r.Function)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("API %s: listen on %s: %w", s.API.LogicalID, addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the server's base URL (http://127.0.0.1:PORT).
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// StageURL is the invoke URL of a stage, like https://<id>.execute-api.<region>.amazonaws.com/<stage>.
func (s *Server) StageURL(stage string) string { return s.URL() + "/" + stage }

// Close stops accepting requests and waits for running ones until ctx is done.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("API %s: shutdown: %w", s.API.LogicalID, err)
	}
	return nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// request is a request that passed API Gateway's checks: its stage, route and key.
type request struct {
	id     string
	at     time.Time
	stage  Stage
	route  Route
	params map[string]string
	path   string
	key    *APIKey
	body   []byte
}

// ServeHTTP handles one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := &request{at: s.now(), id: randid.UUID()}
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	w.Header().Set("x-amzn-RequestId", req.id)
	w.Header().Set("x-amz-apigw-id", apigwID())
	defer func() {
		s.log().Info("api request", "api", s.API.LogicalID, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "request_id", req.id, "duration_ms", time.Since(req.at).Milliseconds())
	}()
	if !s.admit(w, r, req) || !readBody(w, r, req) {
		return
	}
	payload, err := marshalProxyEvent(s.event(r, req), len(req.body) > 0)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	s.integrate(w, r, req, payload)
}

// admit applies API Gateway's checks before the integration: the stage, the route, the
// stage's throttle, the API key and its usage plan's throttle and quota. It answers the
// request itself, and reports false, when one fails.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, req *request) bool {
	stageName, rest := splitStage(r.URL.EscapedPath())
	stage, ok := s.stage(stageName)
	if !ok {
		gatewayError(w, http.StatusForbidden, "ForbiddenException", "Forbidden")
		return false
	}
	path, err := unescapePath(rest)
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "BadRequestException", "Invalid request path")
		return false
	}
	route, params, ok := matchRoute(s.API.Routes, r.Method, path)
	if !ok {
		gatewayError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return false
	}
	req.stage, req.route, req.params, req.path = stage, route, params, path
	if stage.Throttle != nil && !s.limiter("stage:"+stage.Name, stage.Throttle).AllowN(s.now(), 1) {
		gatewayError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
		return false
	}
	if !route.APIKeyRequired {
		return true
	}
	plan, k := s.findKey(stage.Name, r.Header.Get("X-Api-Key"))
	if k == nil {
		gatewayError(w, http.StatusForbidden, "ForbiddenException", "Forbidden")
		return false
	}
	req.key = k
	if plan.Throttle != nil && !s.limiter("plan:"+plan.ID+":"+k.ID, plan.Throttle).AllowN(s.now(), 1) {
		gatewayError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
		return false
	}
	if plan.Quota != nil && !s.quota(plan, k).take(s.now()) {
		gatewayError(w, http.StatusTooManyRequests, "LimitExceededException", "Limit Exceeded")
		return false
	}
	return true
}

// readBody reads the request body up to API Gateway's payload limit; it answers the
// request itself, and reports false, when that fails.
func readBody(w http.ResponseWriter, r *http.Request, req *request) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "BadRequestException", "Could not read the request body")
		return false
	}
	if len(body) > MaxPayloadBytes {
		gatewayError(w, http.StatusRequestEntityTooLarge, "RequestTooLongException", "Request Too Long")
		return false
	}
	req.body = body
	return true
}

// integrate invokes the route's function with the proxy event and writes its response.
func (s *Server) integrate(w http.ResponseWriter, r *http.Request, req *request, payload []byte) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = IntegrationTimeout
	}
	// As in API Gateway, a client that goes away does not cancel the invocation.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
	defer cancel()
	res, err := s.Functions[req.route.Function].Invoke(ctx, payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			gatewayError(w, http.StatusGatewayTimeout, "IntegrationTimeout", "Endpoint request timed out")
			return
		}
		s.log().Error("api integration failed", "api", s.API.LogicalID, "request_id", req.id, "err", err.Error())
		gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	if res.Error != nil {
		s.log().Warn("api function error", "api", s.API.LogicalID, "function", req.route.Function, "request_id", req.id,
			"error_type", res.Error.Type, "error_message", res.Error.Message)
		gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
		return
	}
	if err := writeProxyResponse(w, res.Payload); err != nil {
		s.log().Warn("api malformed Lambda proxy response", "api", s.API.LogicalID, "function", req.route.Function,
			"request_id", req.id, "err", err.Error())
		gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
	}
}
