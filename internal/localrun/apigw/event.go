package apigw

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/payhook/payhook/internal/localrun/randid"
)

// event builds the proxy event as API Gateway does.
func (s *Server) event(r *http.Request, req *request) events.APIGatewayProxyRequest {
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	mv := proxyHeaders(r, req, sourceIP)
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
	params := req.params
	if len(params) == 0 {
		params = nil
	}
	ev := events.APIGatewayProxyRequest{
		Resource:                        req.route.Path,
		Path:                            req.path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               mv,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: mvQuery,
		PathParameters:                  params,
		StageVariables:                  req.stage.Variables,
		RequestContext:                  s.requestContext(r, req, sourceIP),
	}
	if binaryBody(s.API.BinaryMediaTypes, r.Header.Get("Content-Type"), req.body) {
		ev.Body = base64.StdEncoding.EncodeToString(req.body)
		ev.IsBase64Encoded = true
	} else {
		ev.Body = string(req.body)
	}
	return ev
}

// proxyHeaders returns the request's headers with those API Gateway adds (Host,
// X-Forwarded-For/-Port/-Proto, X-Amzn-Trace-Id), every name lower-cased as API Gateway
// passes them for HTTP/2 clients.
func proxyHeaders(r *http.Request, req *request, sourceIP string) map[string][]string {
	_, port, _ := net.SplitHostPort(r.Host)
	if port == "" {
		port = "80"
	}
	mv := map[string][]string{}
	for k, vs := range r.Header {
		name := strings.ToLower(k)
		mv[name] = append(mv[name], vs...)
	}
	mv["host"] = []string{r.Host}
	if prev := r.Header.Get("X-Forwarded-For"); prev != "" {
		mv["x-forwarded-for"] = []string{prev + ", " + sourceIP}
	} else {
		mv["x-forwarded-for"] = []string{sourceIP}
	}
	mv["x-forwarded-port"] = []string{port}
	mv["x-forwarded-proto"] = []string{"http"}
	mv["x-amzn-trace-id"] = []string{fmt.Sprintf("Root=1-%08x-%s", req.at.Unix(), randid.Hex(12))}
	return mv
}

// requestContext is the proxy event's requestContext.
func (s *Server) requestContext(r *http.Request, req *request, sourceIP string) events.APIGatewayProxyRequestContext {
	rc := events.APIGatewayProxyRequestContext{
		AccountID:         s.Account,
		ResourceID:        req.route.ResourceID,
		Stage:             req.stage.Name,
		DomainName:        r.Host,
		DomainPrefix:      s.API.ID,
		RequestID:         req.id,
		ExtendedRequestID: apigwID(),
		Protocol:          r.Proto,
		Identity: events.APIGatewayRequestIdentity{
			SourceIP:  sourceIP,
			UserAgent: r.UserAgent(),
		},
		ResourcePath:     req.route.Path,
		Path:             "/" + req.stage.Name + req.path,
		HTTPMethod:       r.Method,
		RequestTime:      req.at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		RequestTimeEpoch: req.at.UnixMilli(),
		APIID:            s.API.ID,
	}
	if req.key != nil {
		rc.Identity.APIKey = req.key.Value
		rc.Identity.APIKeyID = req.key.ID
	}
	return rc
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
