// Package secretsemu is a minimal AWS Secrets Manager endpoint for tests and local mode.
//
// No emulator for Secrets Manager is served by the registries payhook may use (DynamoDB
// Local and fauxqs cover DynamoDB, SQS and SNS only), so payhook carries this one. It
// speaks the real wire protocol (AWS JSON 1.1, X-Amz-Target: secretsmanager.<Operation>)
// for the operations payhook calls: CreateSecret, PutSecretValue, GetSecretValue,
// DescribeSecret and DeleteSecret (a recovery window marks the secret, which then refuses
// reads and blocks its name, as AWS does; ForceDeleteWithoutRecovery removes it). The services reach it through the unmodified aws-sdk-go-v2 client via
// AWS_ENDPOINT_URL_SECRETS_MANAGER, so production and local runs share one code path.
// Secrets live in memory; requests are not authenticated.
package secretsemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/payhook/payhook/internal/emulators"
)

// Server is a running Secrets Manager endpoint on 127.0.0.1.
type Server struct {
	// URL is the endpoint to give the SDK.
	URL string

	region  string
	account string
	srv     *http.Server
	ln      net.Listener

	mu      sync.Mutex
	secrets map[string]*secret // by name
}

type secret struct {
	Name      string
	ARN       string
	Value     string
	VersionID string
	Created   time.Time
	// Deleted is when a DeleteSecret with a recovery window marked it (zero: not marked).
	Deleted time.Time
}

// Start serves the endpoint on addr (use "127.0.0.1:0" for a free port). Region and
// account only shape the ARNs it hands out.
func Start(addr, region, account string) (*Server, error) {
	if err := emulators.CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("secretsemu: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("secretsemu: listen on %s: %w", addr, err)
	}
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		region:  region,
		account: account,
		ln:      ln,
		secrets: map[string]*secret{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	if err := s.srv.Close(); err != nil {
		return fmt.Errorf("secretsemu: close: %w", err)
	}
	return nil
}

type apiError struct {
	status int
	code   string
	msg    string
}

// Error implements error.
func (e *apiError) Error() string { return e.code + ": " + e.msg }

// ServeHTTP implements the AWS JSON 1.1 protocol for the supported operations.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "secretsmanager.")
	if r.Method != http.MethodPost || !ok {
		writeErr(w, &apiError{http.StatusBadRequest, "UnknownOperationException", "expected POST with X-Amz-Target secretsmanager.<Operation>"})
		return
	}
	var in map[string]any
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeErr(w, &apiError{http.StatusBadRequest, "SerializationException", "request body is not JSON"})
		return
	}
	var out any
	var err error
	switch op {
	case "CreateSecret":
		out, err = s.create(in)
	case "PutSecretValue":
		out, err = s.put(in)
	case "GetSecretValue":
		out, err = s.get(in)
	case "DescribeSecret":
		out, err = s.describe(in)
	case "DeleteSecret":
		out, err = s.deleteSecret(in)
	default:
		err = &apiError{http.StatusBadRequest, "UnknownOperationException", "operation " + op + " is not emulated"}
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{http.StatusInternalServerError, "InternalServiceError", err.Error()}
		}
		writeErr(w, ae)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

func str(in map[string]any, key string) string {
	v, _ := in[key].(string)
	return v
}

func newVersion() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Server) create(in map[string]any) (any, error) {
	name := str(in, "Name")
	if name == "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "Name is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.secrets[name]; ok {
		if !old.Deleted.IsZero() {
			return nil, &apiError{http.StatusBadRequest, "InvalidRequestException",
				"You can't create this secret because a secret with this name is already scheduled for deletion."}
		}
		return nil, &apiError{http.StatusBadRequest, "ResourceExistsException", "the secret " + name + " already exists"}
	}
	suffix := newVersion()[:6]
	sec := &secret{
		Name:      name,
		ARN:       fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, name, suffix),
		Value:     str(in, "SecretString"),
		VersionID: newVersion(),
		Created:   time.Now(),
	}
	s.secrets[name] = sec
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": sec.VersionID}, nil
}

// lookup finds a secret by name or ARN; callers hold s.mu.
func (s *Server) lookup(id string) (*secret, error) {
	if id == "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "SecretId is required"}
	}
	if sec, ok := s.secrets[id]; ok {
		return sec, nil
	}
	for _, sec := range s.secrets {
		if sec.ARN == id {
			return sec, nil
		}
	}
	return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
}

// live is lookup for an operation that a secret marked for deletion refuses.
func (s *Server) live(id string) (*secret, error) {
	sec, err := s.lookup(id)
	if err == nil && !sec.Deleted.IsZero() {
		return nil, &apiError{http.StatusBadRequest, "InvalidRequestException",
			"You can't perform this operation on the secret because it was marked for deletion."}
	}
	return sec, err
}

func (s *Server) put(in map[string]any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.live(str(in, "SecretId"))
	if err != nil {
		return nil, err
	}
	sec.Value = str(in, "SecretString")
	sec.VersionID = newVersion()
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": sec.VersionID,
		"VersionStages": []string{"AWSCURRENT"}}, nil
}

func (s *Server) get(in map[string]any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.live(str(in, "SecretId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "SecretString": sec.Value,
		"VersionId": sec.VersionID, "VersionStages": []string{"AWSCURRENT"},
		"CreatedDate": float64(sec.Created.UnixMilli()) / 1000}, nil
}

func (s *Server) describe(in map[string]any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(str(in, "SecretId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name,
		"CreatedDate": float64(sec.Created.UnixMilli()) / 1000}, nil
}

// deleteSecret marks a secret deleted after its recovery window (7 to 30 days, default 30),
// or removes it at once with ForceDeleteWithoutRecovery, which succeeds for a secret that
// is already gone.
func (s *Server) deleteSecret(in map[string]any) (any, error) {
	force, _ := in["ForceDeleteWithoutRecovery"].(bool)
	days := 30
	if d, ok := in["RecoveryWindowInDays"].(float64); ok {
		if force {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterException",
				"You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."}
		}
		if d < 7 || d > 30 {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "RecoveryWindowInDays must be between 7 and 30 days."}
		}
		days = int(d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := str(in, "SecretId")
	sec, err := s.lookup(id)
	now := time.Now()
	switch {
	case err != nil && force && id != "":
		return map[string]any{"ARN": id, "Name": id, "DeletionDate": float64(now.Unix())}, nil
	case err != nil:
		return nil, err
	case force:
		delete(s.secrets, sec.Name)
		return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "DeletionDate": float64(now.Unix())}, nil
	}
	sec.Deleted = now
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "DeletionDate": float64(now.AddDate(0, 0, days).Unix())}, nil
}
