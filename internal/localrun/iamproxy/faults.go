package iamproxy

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// inject serves an allowed call that the plan gives a fault: it delays it, serves it and
// drops the answer, or answers the fault as the service would.
func (p *Proxy) inject(w http.ResponseWriter, r *http.Request, fwd http.Handler, req request, body []byte, f faults.Fault) {
	switch f.Kind {
	case faults.Latency:
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
		fwd.ServeHTTP(w, r)
	case faults.LostResponse:
		// The call takes effect (a write is committed), but its answer never arrives: the
		// connection is reset, which the SDK retries as it retries a connection AWS dropped.
		fwd.ServeHTTP(httptest.NewRecorder(), r)
		resetConnection(w)
	default:
		p.answerFault(w, req, body, f.Kind)
	}
}

// resetConnection closes the client's connection with a TCP reset, answering nothing.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// answerFault writes a throttle, a 500 or a conflict in the protocol of the request, with
// the codes AWS uses, so the SDK classifies each as it classifies AWS's.
func (p *Proxy) answerFault(w http.ResponseWriter, req request, body []byte, k faults.Kind) {
	switch {
	case k == faults.Conflict && req.operation == "TransactWriteItems":
		writeCancelledByConflict(w, body)
	case k == faults.Conflict:
		p.refuse(w, req.service, req.query, denial{status: http.StatusBadRequest, code: "TransactionConflictException",
			message: "Transaction is ongoing for the item (payhook fault injection)"})
	case k == faults.Throttle:
		p.refuse(w, req.service, req.query, throttleDenial(req))
	default:
		d := denial{status: http.StatusInternalServerError, code: "InternalFailure",
			message: "We encountered an internal error. Please try again. (payhook fault injection)"}
		switch req.service {
		case ServiceDynamoDB:
			d.code = "InternalServerError"
		case ServiceSQS, ServiceSNS:
			d.code = "InternalError"
			if !req.query {
				d.queryError = "InternalError;Receiver"
			}
		}
		p.refuse(w, req.service, req.query, d)
	}
}

// throttleDenial is each service's throttling answer (all in the SDK's throttle codes).
func throttleDenial(req request) denial {
	msg := "Rate exceeded (payhook fault injection)"
	switch req.service {
	case ServiceDynamoDB:
		return denial{status: http.StatusBadRequest, code: "ProvisionedThroughputExceededException",
			message: "The level of configured provisioned throughput for the table was exceeded (payhook fault injection)"}
	case ServiceSNS:
		return denial{status: http.StatusBadRequest, code: "Throttling", message: msg}
	case ServiceSQS:
		if req.query {
			return denial{status: http.StatusBadRequest, code: "RequestThrottled", message: msg}
		}
		return denial{status: http.StatusBadRequest, code: "RequestThrottled", message: msg, queryError: "RequestThrottled;Sender"}
	}
	return denial{status: http.StatusBadRequest, code: "ThrottlingException", message: msg}
}

// writeCancelledByConflict answers a TransactWriteItems as DynamoDB does when another
// transaction holds its items: TransactionCanceledException, every reason TransactionConflict.
func writeCancelledByConflict(w http.ResponseWriter, body []byte) {
	var in struct{ TransactItems []json.RawMessage }
	_ = json.Unmarshal(body, &in)
	reasons := make([]map[string]string, max(len(in.TransactItems), 1))
	codes := make([]string, len(reasons))
	for i := range reasons {
		reasons[i] = map[string]string{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
		codes[i] = "TransactionConflict"
	}
	msg := "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"
	out, _ := json.Marshal(map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"message": msg, "Message": msg, "CancellationReasons": reasons})
	w.Header().Set("x-amzn-RequestId", randid.UUID())
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(out)
}
