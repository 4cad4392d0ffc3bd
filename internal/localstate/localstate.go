// Package localstate is local mode's state file, .payhook/local.json: the one definition of
// its shape and how it is read and written. cmd/payhook-local writes it (through
// internal/localrun, whose State is this package's); the probes (smoke, loadtest and replay,
// services/internal/probe) and the end-to-end tests read it.
//
// It imports nothing outside the standard library, so that the tools built from services/
// read the file without depending on local mode's runner, its emulators or the CDK.
package localstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultPath is where `mage local` writes the state file, relative to the repository.
const DefaultPath = ".payhook/local.json"

// State is what a running local stack tells tools (the smoke test, the load test, replay,
// the end-to-end tests): where everything is and the local secrets. cmd/payhook-local
// writes it to DefaultPath while it runs, and keeps it without the pids after it stopped
// so that the next start reuses the API key and the providers' secrets.
type State struct {
	// Running is true while the stack runs.
	Running bool `json:"running"`
	// StartedAt is when the stack started.
	StartedAt time.Time `json:"started_at"`
	// StartupMillis is how long the start took.
	StartupMillis int64 `json:"startup_ms"`
	// Template is the CloudFormation template the stack was provisioned from.
	Template string `json:"template"`
	// Stack and Region are the stack's name and region.
	Stack  string `json:"stack"`
	Region string `json:"region"`

	// Endpoint is the webhook URL: the first API's first POST route.
	Endpoint string `json:"endpoint"`
	// APIKey is the key for Endpoint (x-api-key header).
	APIKey string `json:"api_key"`
	// Providers are the webhook providers with their local signing secrets (the
	// application's facts).
	Providers []Provider `json:"providers"`
	// Live is the application's livemode (payhook: the ingest function's PAYHOOK_LIVE).
	Live bool `json:"live"`
	// Table is the application's main table (payhook: the ingest function's TABLE_NAME).
	Table string `json:"table"`
	// QueueURL is the application's main queue (payhook: the ingest function's
	// QUEUE_URL) and DLQURL its dead-letter queue.
	QueueURL string `json:"queue_url"`
	DLQURL   string `json:"dlq_url"`
	// TopicARN is the alerts topic (payhook: notify-failures' ALERT_TOPIC_ARN).
	TopicARN string `json:"topic_arn"`
	// Emulators are the emulator endpoints (for AWS_ENDPOINT_URL_<SERVICE>).
	Emulators Emulators `json:"emulators"`
	// Outputs are the stack outputs with local values, as CloudFormation would report
	// them for a deployed stack (execute-api URLs point at the local API server), so
	// that tools read a local and a deployed stack the same way.
	Outputs map[string]string `json:"outputs"`

	// APIs lists every served API with its stage URLs and keys.
	APIs []API `json:"apis"`
	// Functions lists the running functions.
	Functions []Function `json:"functions"`
	// LogDir holds the function and emulator logs.
	LogDir string `json:"log_dir"`
	// Pids are the processes of the running stack by role ("payhook-local",
	// "dynamodb", "fauxqs", and each function's logical id); empty once stopped.
	Pids map[string][]int `json:"pids,omitempty"`
	// Unsupported lists what the template has that is not emulated.
	Unsupported []Unsupported `json:"unsupported"`
}

// Provider is a webhook provider and its local signing secret, and what it posts when that
// is not the application's default (payhook: a contract.PayloadFormat, as JSON).
type Provider struct {
	Name   string          `json:"name"`
	Scheme string          `json:"scheme"`
	Secret string          `json:"secret"`
	Format json.RawMessage `json:"format,omitempty"`
	// APIKey is the provider's own API key (x-api-key); "" for a keyless provider, which
	// posts to its own path (Endpoint/<name>) without one.
	APIKey  string `json:"api_key,omitempty"`
	Keyless bool   `json:"keyless,omitempty"`
}

// Emulators are the emulator endpoints.
type Emulators struct {
	DynamoDB       string `json:"dynamodb"`
	SQS            string `json:"sqs"`
	SNS            string `json:"sns"`
	SecretsManager string `json:"secretsmanager"`
}

// API is a served REST API.
type API struct {
	LogicalID string `json:"logical_id"`
	// URL is the server's base URL; each stage is served under /<stage>.
	URL string `json:"url"`
	// Stages maps stage name to its invoke URL.
	Stages map[string]string `json:"stages"`
	// Routes are "METHOD /path" entries.
	Routes []string `json:"routes"`
	// Keys maps API key logical id to its value.
	Keys map[string]string `json:"keys"`
}

// Function is a running function.
type Function struct {
	LogicalID string `json:"logical_id"`
	Name      string `json:"name"`
	Service   string `json:"service"`
	Log       string `json:"log"`
}

// Unsupported is a resource, or a setting of an emulated resource, without local effect
// (internal/localrun/provision lists them).
type Unsupported struct {
	// LogicalID names the resource (for outputs, their names).
	LogicalID string `json:"logical_id"`
	// Type is the resource type, followed by the property for a setting.
	Type string `json:"type"`
	// Reason says what is not emulated and what that means locally.
	Reason string `json:"reason"`
}

// Read reads a state file; a missing file is (nil, nil).
func Read(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	return &s, nil
}

// Write writes the state file atomically, readable by its owner only (it holds the local
// secrets), creating its directory.
func Write(path string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".local-*.json")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state %s: %w", path, err)
	}
	return nil
}
