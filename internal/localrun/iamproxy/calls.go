package iamproxy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// CallRecord is one authorization decision, a line of calls.jsonl.
type CallRecord struct {
	Time time.Time `json:"time"`
	// Function is the caller's logical id; Role its role's ARN.
	Function string `json:"function"`
	Role     string `json:"role"`
	// Operation is the API operation called ("dynamodb:TransactWriteItems").
	Operation string `json:"operation"`
	// Action and Resource are what was authorized; Via is the action that implied this one
	// (a KMS permission that publishing to an encrypted topic needs), "" otherwise.
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Via      string `json:"via,omitempty"`
	Allowed  bool   `json:"allowed"`
	// Enforced is false when the call went through although denied (PAYHOOK_IAM=off).
	Enforced bool   `json:"enforced"`
	Why      string `json:"why,omitempty"`
	// Fault is the kind of fault injected into this call (internal/localrun/faults); a
	// record with a fault is not an authorization decision.
	Fault string `json:"fault,omitempty"`
}

// CallLog appends CallRecords to a JSON Lines file; it is safe for concurrent use.
type CallLog struct {
	mu  sync.Mutex
	f   *os.File
	err error
}

// CreateCallLog truncates (or creates) the file at path and returns a log writing to it.
func CreateCallLog(path string) (*CallLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("call log: %w", err)
	}
	return &CallLog{f: f}, nil
}

// Record appends one decision; a nil log records nothing. Each record is written at once so
// that a reader (the report, a test) sees every call made so far.
func (l *CallLog) Record(c CallRecord) {
	if l == nil {
		return
	}
	b, err := json.Marshal(c)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.err == nil {
		_, l.err = l.f.Write(append(b, '\n'))
	}
}

// Close closes the file, returning the first write error.
func (l *CallLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = err
	}
	return l.err
}

// ReadCalls reads the records of a calls.jsonl file.
func ReadCalls(path string) ([]CallRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read calls: %w", err)
	}
	defer f.Close()
	var out []CallRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var c CallRecord
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// InjectedFaults counts the faults recorded in a calls.jsonl file, by kind.
func InjectedFaults(path string) (map[string]int, error) {
	calls, err := ReadCalls(path)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, c := range calls {
		if c.Fault != "" {
			out[c.Fault]++
		}
	}
	return out, nil
}
