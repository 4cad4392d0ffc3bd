package localstack

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/payhook/payhook/internal/emulators"
)

// API Gateway limits that the local server applies as the real service does.
const (
	// MaxPayloadBytes is API Gateway's request payload limit (10 MB).
	MaxPayloadBytes = 10 << 20
	// IntegrationTimeout is API Gateway's default integration timeout (29 s).
	IntegrationTimeout = 29 * time.Second
)

// APIServer serves one REST API on 127.0.0.1 as API Gateway serves it with Lambda proxy
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
// Header names reach the function as the client spelled them (the connection's bytes are
// re-read for that: Go's server canonicalizes them).
//
// Differences from API Gateway: when the API declares no
// binaryMediaTypes, a body whose Content-Type is not textual (text/*, JSON, XML, form,
// JavaScript) or that is not UTF-8 is passed base64-encoded with isBase64Encoded set
// (API Gateway would pass it as text); WAF, resource policies, authorizers and custom
// gateway responses are not applied.
type APIServer struct {
	// API is the REST API served.
	API API
	// Functions invokes the integrated functions, by logical id.
	Functions map[string]Invoker
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

	mu      sync.Mutex
	buckets map[string]*tokenBucket
	quotas  map[string]*quotaCounter
}

// NewAPIServer returns a server for api whose routes invoke functions.
func NewAPIServer(api API, functions map[string]Invoker, region, account string) *APIServer {
	return &APIServer{API: api, Functions: functions, Region: region, Account: account}
}

// Start listens on addr ("127.0.0.1:0" for a free port; loopback only) and serves in the
// background.
func (s *APIServer) Start(addr string) error {
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
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnContext: withConn}
	ln = recordingListener{ln}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the server's base URL (http://127.0.0.1:PORT).
func (s *APIServer) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// StageURL is the invoke URL of a stage, like https://<id>.execute-api.<region>.amazonaws.com/<stage>.
func (s *APIServer) StageURL(stage string) string { return s.URL() + "/" + stage }

// Close stops accepting requests and waits for running ones until ctx is done.
func (s *APIServer) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("API %s: shutdown: %w", s.API.LogicalID, err)
	}
	return nil
}

func (s *APIServer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *APIServer) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// gatewayError answers as API Gateway's default gateway responses do.
func gatewayError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", errType)
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{\"message\":%q}", message)
}

// ServeHTTP handles one request.
func (s *APIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	// First, for every request on the connection: the header names as sent.
	names := rawHeaderNames(r)
	requestID := newUUID()
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("x-amz-apigw-id", apigwID())
	defer func() {
		s.log().Info("api request", "api", s.API.LogicalID, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "request_id", requestID, "duration_ms", time.Since(start).Milliseconds())
	}()

	stageName, rest := splitStage(r.URL.EscapedPath())
	stage, ok := s.stage(stageName)
	if !ok {
		gatewayError(w, http.StatusForbidden, "ForbiddenException", "Forbidden")
		return
	}
	path, err := unescapePath(rest)
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "BadRequestException", "Invalid request path")
		return
	}
	route, params, ok := matchRoute(s.API.Routes, r.Method, path)
	if !ok {
		gatewayError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	if stage.Throttle != nil && !s.bucket("stage:"+stage.Name, stage.Throttle).allow(s.now()) {
		gatewayError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
		return
	}
	var key *APIKey
	if route.APIKeyRequired {
		plan, k := s.findKey(stage.Name, r.Header.Get("X-Api-Key"))
		if k == nil {
			gatewayError(w, http.StatusForbidden, "ForbiddenException", "Forbidden")
			return
		}
		key = k
		if plan.Throttle != nil && !s.bucket("plan:"+plan.ID+":"+k.ID, plan.Throttle).allow(s.now()) {
			gatewayError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
			return
		}
		if plan.Quota != nil && !s.quota(plan, k).take(s.now()) {
			gatewayError(w, http.StatusTooManyRequests, "LimitExceededException", "Limit Exceeded")
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "BadRequestException", "Could not read the request body")
		return
	}
	requestBodyRead(r)
	if len(body) > MaxPayloadBytes {
		gatewayError(w, http.StatusRequestEntityTooLarge, "RequestTooLongException", "Request Too Long")
		return
	}
	event := s.event(r, names, requestID, stage, route, params, path, key, body, start)
	payload, err := marshalProxyEvent(event, len(body) > 0)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = IntegrationTimeout
	}
	// As in API Gateway, a client that goes away does not cancel the invocation.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
	defer cancel()
	res, err := s.Functions[route.Function].Invoke(ctx, payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			gatewayError(w, http.StatusGatewayTimeout, "IntegrationTimeout", "Endpoint request timed out")
			return
		}
		s.log().Error("api integration failed", "api", s.API.LogicalID, "request_id", requestID, "err", err.Error())
		gatewayError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return
	}
	if res.Error != nil {
		s.log().Warn("api function error", "api", s.API.LogicalID, "function", route.Function, "request_id", requestID,
			"error_type", res.Error.Type, "error_message", res.Error.Message)
		gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
		return
	}
	if err := writeProxyResponse(w, res.Payload); err != nil {
		s.log().Warn("api malformed Lambda proxy response", "api", s.API.LogicalID, "function", route.Function,
			"request_id", requestID, "err", err.Error())
		gatewayError(w, http.StatusBadGateway, "InternalServerErrorException", "Internal server error")
	}
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

func splitStage(p string) (stage, rest string) {
	p = strings.TrimPrefix(p, "/")
	stage, rest, _ = strings.Cut(p, "/")
	return stage, "/" + rest
}

func unescapePath(p string) (string, error) {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		segs[i] = u
	}
	return strings.Join(segs, "/"), nil
}

func (s *APIServer) stage(name string) (Stage, bool) {
	for _, st := range s.API.Stages {
		if st.Name == name {
			return st, true
		}
	}
	return Stage{}, false
}

// findKey returns the usage plan and enabled key matching value on the stage.
func (s *APIServer) findKey(stage, value string) (*UsagePlan, *APIKey) {
	if value == "" {
		return nil, nil
	}
	for i := range s.API.UsagePlans {
		pl := &s.API.UsagePlans[i]
		covers := false
		for _, st := range pl.Stages {
			covers = covers || st == stage
		}
		if !covers {
			continue
		}
		for j := range pl.Keys {
			k := &pl.Keys[j]
			if k.Enabled && k.Value == value {
				return pl, k
			}
		}
	}
	return nil, nil
}

// matchRoute finds the route for method and path: literal segments before {param}
// segments before a greedy {proxy+}, and a method before ANY, as API Gateway prefers.
func matchRoute(routes []Route, method, path string) (Route, map[string]string, bool) {
	segs := splitPath(path)
	best, bestScore := -1, -1
	var bestParams map[string]string
	for i, r := range routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		params, score, ok := matchPath(splitPath(r.Path), segs)
		if !ok {
			continue
		}
		score *= 2
		if r.Method == method {
			score++
		}
		if score > bestScore {
			best, bestScore, bestParams = i, score, params
		}
	}
	if best < 0 {
		return Route{}, nil, false
	}
	return routes[best], bestParams, true
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath matches request segments against a resource template; the score ranks
// literal matches above parameters above greedy parameters.
func matchPath(tmpl, segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	score := 0
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(segs) {
				return nil, 0, false
			}
			params[t[1:len(t)-2]] = strings.Join(segs[i:], "/")
			return params, score, true
		}
		if i >= len(segs) {
			return nil, 0, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			params[t[1:len(t)-1]] = segs[i]
			score += 1 << (2 * (len(tmpl) - i))
			continue
		}
		if t != segs[i] {
			return nil, 0, false
		}
		score += 2 << (2 * (len(tmpl) - i))
	}
	if len(segs) != len(tmpl) {
		return nil, 0, false
	}
	return params, score, true
}

// event builds the proxy event as API Gateway does.
func (s *APIServer) event(r *http.Request, names map[string]string, requestID string, stage Stage, route Route, params map[string]string,
	path string, key *APIKey, body []byte, at time.Time) events.APIGatewayProxyRequest {
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	_, port, _ := net.SplitHostPort(r.Host)
	if port == "" {
		port = "80"
	}
	// Header names as the client spelled them (canonical when unknown); the headers
	// API Gateway adds keep their own spelling unless the client sent them.
	name := func(canonical string) string {
		if n, ok := names[canonical]; ok {
			return n
		}
		return canonical
	}
	mv := map[string][]string{}
	for k, vs := range r.Header {
		mv[name(k)] = append([]string(nil), vs...)
	}
	mv[name("Host")] = []string{r.Host}
	if prev := r.Header.Get("X-Forwarded-For"); prev != "" {
		mv[name("X-Forwarded-For")] = []string{prev + ", " + sourceIP}
	} else {
		mv[name("X-Forwarded-For")] = []string{sourceIP}
	}
	mv[name("X-Forwarded-Port")] = []string{port}
	mv[name("X-Forwarded-Proto")] = []string{"http"}
	traceID := fmt.Sprintf("Root=1-%08x-%s", at.Unix(), randomHex(12))
	mv[name("X-Amzn-Trace-Id")] = []string{traceID}
	headers := make(map[string]string, len(mv))
	for k, vs := range mv {
		headers[k] = vs[len(vs)-1]
	}
	var query map[string]string
	var mvQuery map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		query, mvQuery = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			query[k] = vs[len(vs)-1]
			mvQuery[k] = vs
		}
	}
	if len(params) == 0 {
		params = nil
	}
	ev := events.APIGatewayProxyRequest{
		Resource:                        route.Path,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               mv,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: mvQuery,
		PathParameters:                  params,
		StageVariables:                  stage.Variables,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         s.Account,
			ResourceID:        route.ResourceID,
			Stage:             stage.Name,
			DomainName:        r.Host,
			DomainPrefix:      s.API.ID,
			RequestID:         requestID,
			ExtendedRequestID: apigwID(),
			Protocol:          r.Proto,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
			ResourcePath:     route.Path,
			Path:             "/" + stage.Name + path,
			HTTPMethod:       r.Method,
			RequestTime:      at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: at.UnixMilli(),
			APIID:            s.API.ID,
		},
	}
	if key != nil {
		ev.RequestContext.Identity.APIKey = key.Value
		ev.RequestContext.Identity.APIKeyID = key.ID
	}
	if binaryBody(s.API.BinaryMediaTypes, r.Header.Get("Content-Type"), body) {
		ev.Body = base64.StdEncoding.EncodeToString(body)
		ev.IsBase64Encoded = true
	} else {
		ev.Body = string(body)
	}
	return ev
}

// marshalProxyEvent encodes the event with "body": null for an empty body, as API
// Gateway sends it.
func marshalProxyEvent(ev events.APIGatewayProxyRequest, hasBody bool) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil || hasBody {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["body"] = json.RawMessage("null")
	return json.Marshal(m)
}

// binaryBody decides whether the request body is passed base64-encoded: with
// binaryMediaTypes, exactly when the Content-Type matches one (as API Gateway does);
// without, when the Content-Type is not textual or the body is not UTF-8.
func binaryBody(binaryTypes []string, contentType string, body []byte) bool {
	if len(body) == 0 {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	if len(binaryTypes) > 0 {
		for _, b := range binaryTypes {
			if mediaTypeMatches(strings.ToLower(b), mt) {
				return true
			}
		}
		return false
	}
	if !utf8.Valid(body) {
		return true
	}
	return mt != "" && !textual(mt)
}

func mediaTypeMatches(pattern, mt string) bool {
	if pattern == "*/*" || pattern == mt {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		return strings.HasPrefix(mt, prefix+"/")
	}
	return false
}

func textual(mt string) bool {
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/x-www-form-urlencoded", mt == "application/javascript",
		mt == "application/graphql", mt == "application/x-ndjson":
		return true
	}
	return false
}

// writeProxyResponse writes a Lambda proxy integration response.
func writeProxyResponse(w http.ResponseWriter, payload []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil {
		return fmt.Errorf("response is not a JSON object: %w", err)
	}
	for k := range probe {
		switch k {
		case "statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded":
		default:
			return fmt.Errorf("response has the unexpected field %q", k)
		}
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return fmt.Errorf("response does not match the proxy response format: %w", err)
	}
	if _, ok := probe["statusCode"]; !ok {
		return errors.New("response has no statusCode")
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d is not an HTTP status", resp.StatusCode)
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

func (s *APIServer) bucket(key string, t *Throttle) *tokenBucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]*tokenBucket{}
	}
	b, ok := s.buckets[key]
	if !ok {
		b = newTokenBucket(t.RateLimit, t.BurstLimit, s.now())
		s.buckets[key] = b
	}
	return b
}

func (s *APIServer) quota(pl *UsagePlan, k *APIKey) *quotaCounter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quotas == nil {
		s.quotas = map[string]*quotaCounter{}
	}
	key := pl.ID + ":" + k.ID
	q, ok := s.quotas[key]
	if !ok {
		q = &quotaCounter{limit: pl.Quota.Limit, period: pl.Quota.Period}
		s.quotas[key] = q
	}
	return q
}

// tokenBucket is API Gateway's throttle: rate tokens per second, capacity burst.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) *tokenBucket {
	b := float64(burst)
	if b <= 0 && rate > 0 {
		b = max(1, rate)
	}
	return &tokenBucket{rate: rate, burst: b, tokens: b, last: now}
}

func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// quotaCounter counts requests per calendar period in UTC (the quota's Offset is not
// applied).
type quotaCounter struct {
	mu     sync.Mutex
	limit  int
	period string
	window string
	used   int
}

func (q *quotaCounter) take(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	now = now.UTC()
	var w string
	switch q.period {
	case "WEEK":
		y, wk := now.ISOWeek()
		w = fmt.Sprintf("%d-W%d", y, wk)
	case "MONTH":
		w = now.Format("2006-01")
	default:
		w = now.Format("2006-01-02")
	}
	if w != q.window {
		q.window, q.used = w, 0
	}
	if q.used >= q.limit {
		return false
	}
	q.used++
	return true
}

func randomHex(n int) string {
	b, err := randomBytes(n)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// apigwID is an id shaped like API Gateway's x-amz-apigw-id / extendedRequestId.
func apigwID() string {
	b, err := randomBytes(12)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)[:15] + "="
}
