package iamproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// maxBody bounds the request bodies the proxy reads (DynamoDB's largest request, a
// 100-item transaction of 400 KB items, is under 40 MB; SQS and SNS bodies under 1 MiB).
const maxBody = 64 << 20

// Principal is a caller the proxy knows: a function and the role it runs as.
type Principal struct {
	// Function is the function's logical id; FunctionName its name.
	Function, FunctionName string
	// Role is its execution role.
	Role *Role
}

// Credentials are a principal's access key pair.
type Credentials struct {
	AccessKeyID, SecretAccessKey string
}

// Proxy authorizes every AWS call that reaches it against the Model and forwards the
// allowed ones to the emulator of the call's service. It tells callers apart by the access
// key of their SigV4 signature (Credential=<key>/<date>/<region>/<service>/aws4_request)
// and routes by the service of that scope, so one endpoint serves every service.
type Proxy struct {
	// Model is the template's access control.
	Model *Model
	// Upstreams are the emulators' URLs by signing name (ServiceDynamoDB, ...).
	Upstreams map[string]string
	// Enforce refuses denied calls as AWS does; when false they are forwarded and recorded
	// as denied (PAYHOOK_IAM=off).
	Enforce bool
	// Calls records every decision (nil records nothing).
	Calls *CallLog
	// Log receives refusals (nil discards them).
	Log *slog.Logger

	// faults injects the failures of a fault plan into allowed calls (SetFaults).
	faults atomic.Pointer[faults.Injector]

	mu         sync.RWMutex
	principals map[string]Principal // by access key id
	forward    map[string]*httputil.ReverseProxy
	srv        *http.Server
	ln         net.Listener
}

// SetFaults makes in decide the faults injected into allowed calls from now on (nil: none);
// each injected fault is recorded in Calls. It is safe to call while serving.
func (p *Proxy) SetFaults(in *faults.Injector) { p.faults.Store(in) }

// Credentials issues an access key pair for a principal (a function): every call signed
// with it is evaluated against that principal's role.
func (p *Proxy) Credentials(pr Principal) Credentials {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.principals == nil {
		p.principals = map[string]Principal{}
	}
	id := "ASIALOCAL" + strings.ToUpper(randid.Hex(6))
	p.principals[id] = pr
	return Credentials{AccessKeyID: id, SecretAccessKey: randid.Hex(20)}
}

// Start listens on addr (127.0.0.1:0 for a free port) and serves until Close.
func (p *Proxy) Start(addr string) error {
	p.forward = map[string]*httputil.ReverseProxy{}
	for svc, raw := range p.Upstreams {
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("iam proxy: upstream %s %q: %w", svc, raw, err)
		}
		p.forward[svc] = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) },
			// An emulator that is down (restarting) answers 502, which the SDK retries as it
			// retries a 502 from AWS.
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if p.Log != nil && r.Context().Err() == nil {
					p.Log.Debug("emulator unreachable", "service", svc, "err", err.Error())
				}
				w.WriteHeader(http.StatusBadGateway)
			},
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("iam proxy: listen on %s: %w", addr, err)
	}
	p.ln = ln
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return nil
}

// URL is the proxy's base URL, the endpoint every service of a function points at.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops serving; calls in flight are answered first.
func (p *Proxy) Close(ctx context.Context) error {
	if p.srv == nil {
		return nil
	}
	if err := p.srv.Shutdown(ctx); err != nil {
		// Out of time (a long poll in flight): close what is left rather than leave it open.
		return errors.Join(err, p.srv.Close())
	}
	return nil
}

// ServeHTTP authorizes one call and forwards it, or answers as the service does when it
// refuses it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	query := r.Header.Get("X-Amz-Target") == ""
	key, service, err := credentialScope(r.Header.Get("Authorization"))
	if err != nil {
		code := "MissingAuthenticationTokenException"
		if query {
			code = "MissingAuthenticationToken"
		}
		p.refuse(w, service, query, denial{status: http.StatusForbidden, code: code, message: err.Error()})
		return
	}
	p.mu.RLock()
	pr, known := p.principals[key]
	fwd := p.forward[service]
	p.mu.RUnlock()
	if !known {
		// DynamoDB answers 400 UnrecognizedClientException; the query protocols 403 InvalidClientTokenId.
		d := denial{status: http.StatusBadRequest, code: "UnrecognizedClientException",
			message: "The security token included in the request is invalid: access key " + key + " is not one the local stack issued."}
		if query {
			d.status, d.code = http.StatusForbidden, "InvalidClientTokenId"
		}
		p.refuse(w, service, query, d)
		return
	}
	if fwd == nil {
		p.refuse(w, service, query, denial{status: http.StatusBadRequest, code: "UnknownOperationException",
			message: "service " + service + " is not emulated locally"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	req, err := p.Model.parseRequest(service, r.Header, body)
	if err == nil && len(req.calls) == 0 {
		err = fmt.Errorf("%s %s names no resource to authorize", service, req.operation)
	}
	if err != nil {
		// Fail closed: a call the proxy cannot read is one it cannot authorize. With
		// enforcement off it goes through, recorded as denied.
		p.Calls.Record(CallRecord{Time: time.Now().UTC(), Function: pr.Function, Role: pr.Role.ARN,
			Operation: service + ":" + req.operation, Enforced: p.Enforce, Why: err.Error()})
		if !p.Enforce {
			fwd.ServeHTTP(w, r)
			return
		}
		p.refuse(w, service, query, denial{status: http.StatusBadRequest, code: "AccessDeniedException",
			message: "payhook local IAM cannot authorize this request: " + err.Error()})
		return
	}
	if d, refused := p.authorize(pr, req); refused {
		p.refuse(w, service, req.query, d)
		return
	}
	if f, ok := p.faults.Load().Decide(service, req.operation, pr.Function); ok {
		p.Calls.Record(CallRecord{Time: time.Now().UTC(), Function: pr.Function, Role: pr.Role.ARN,
			Operation: service + ":" + req.operation, Allowed: true, Enforced: p.Enforce, Fault: string(f.Kind)})
		p.inject(w, r, fwd, req, body, f)
		return
	}
	fwd.ServeHTTP(w, r)
}

// authorize decides every check of the request, records each, and returns the refusal of
// the first denied one when enforcing.
func (p *Proxy) authorize(pr Principal, req request) (denial, bool) {
	var first *denial
	for _, c := range req.calls {
		d := p.Model.Decide(pr.Role, c.Call)
		p.Calls.Record(CallRecord{Time: time.Now().UTC(), Function: pr.Function, Role: pr.Role.ARN,
			Operation: req.service + ":" + req.operation, Action: c.Action, Resource: c.Resource, Via: c.via,
			Allowed: d.Allowed, Enforced: p.Enforce, Why: d.Why})
		if d.Allowed || first != nil {
			continue
		}
		msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s",
			p.Model.sessionARN(pr.Role, pr.FunctionName), c.Action, c.Resource, d.Why)
		den := accessDenied(req, c.via != "", msg)
		first = &den
		if p.Log != nil {
			p.Log.Warn("IAM denied a call", "function", pr.Function, "action", c.Action, "resource", c.Resource,
				"enforced", p.Enforce, "why", d.Why)
		}
	}
	if first == nil || !p.Enforce {
		return denial{}, false
	}
	return *first, true
}

// denial is a refusal as a service answers it.
type denial struct {
	status        int
	code, message string
	// queryError is SQS's x-amzn-query-error header on its JSON protocol.
	queryError string
}

// accessDenied is the service's answer to a denied call: its own code for a KMS permission
// the call implies, AccessDeniedException (HTTP 400) on the JSON protocols, AuthorizationError
// (SNS) or AccessDenied (SQS) with HTTP 403 on the query protocol.
func accessDenied(req request, kms bool, msg string) denial {
	switch {
	case req.service == ServiceSNS && kms:
		return denial{status: http.StatusBadRequest, code: "KMSAccessDenied", message: msg}
	case req.service == ServiceSNS:
		return denial{status: http.StatusForbidden, code: "AuthorizationError", message: msg}
	case req.service == ServiceSQS && kms && req.query:
		return denial{status: http.StatusBadRequest, code: "KMS.AccessDeniedException", message: msg}
	case req.service == ServiceSQS && kms:
		return denial{status: http.StatusBadRequest, code: "KmsAccessDenied", message: msg, queryError: "KMS.AccessDeniedException;Sender"}
	case req.service == ServiceSQS && req.query:
		return denial{status: http.StatusForbidden, code: "AccessDenied", message: msg}
	case req.service == ServiceSQS:
		return denial{status: http.StatusBadRequest, code: "AccessDeniedException", message: msg, queryError: "AccessDenied;Sender"}
	}
	return denial{status: http.StatusBadRequest, code: "AccessDeniedException", message: msg}
}

// refuse writes a denial in the protocol of the request: XML ErrorResponse for the query
// protocol, a JSON error with __type otherwise.
func (p *Proxy) refuse(w http.ResponseWriter, service string, query bool, d denial) {
	w.Header().Set("x-amzn-RequestId", randid.UUID())
	if query {
		type errBody struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		out, _ := xml.Marshal(struct {
			XMLName   xml.Name `xml:"ErrorResponse"`
			Error     errBody  `xml:"Error"`
			RequestID string   `xml:"RequestId"`
		}{Error: errBody{Type: "Sender", Code: d.code, Message: d.message}, RequestID: w.Header().Get("x-amzn-RequestId")})
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(d.status)
		_, _ = w.Write(out)
		return
	}
	prefix := "com.amazon.coral.service#"
	if service == ServiceSQS && strings.HasPrefix(d.code, "Kms") {
		prefix = "com.amazonaws.sqs#"
	}
	if d.queryError != "" {
		w.Header().Set("x-amzn-query-error", d.queryError)
	}
	out, _ := json.Marshal(map[string]string{"__type": prefix + d.code, "message": d.message, "Message": d.message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(d.status)
	_, _ = w.Write(out)
}

// credentialScope reads the access key and the service from a SigV4 Authorization header.
func credentialScope(auth string) (key, service string, err error) {
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", "", errors.New("the request is not signed with AWS Signature Version 4")
	}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		cred, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential=")
		if !ok {
			continue
		}
		scope := strings.Split(cred, "/")
		if len(scope) != 5 || scope[4] != "aws4_request" {
			return "", "", fmt.Errorf("malformed credential scope %q", cred)
		}
		return scope[0], scope[3], nil
	}
	return "", "", errors.New("the Authorization header has no Credential")
}
