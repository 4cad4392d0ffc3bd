package localstate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// full is a State with every field set, so that its JSON carries every key.
func full() *State {
	return &State{Running: true, StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), StartupMillis: 1234,
		Template: "cdk.out/payhook-local.template.json", Stack: "payhook-local", Region: "us-east-1",
		Endpoint: "http://127.0.0.1:4010/prod/webhooks", APIKey: "key",
		Providers: []Provider{{Name: "acme", Scheme: "standard-webhooks", Secret: "whsec_a", APIKey: "k-acme"},
			{Name: "stripe", Scheme: "stripe", Secret: "whsec_s", Format: json.RawMessage(`{"format":"stripe"}`), Keyless: true}},
		Live: true, Table: "t", QueueURL: "q", DLQURL: "dlq", TopicARN: "arn:topic",
		Emulators: Emulators{DynamoDB: "http://d", SQS: "http://q", SNS: "http://q", SecretsManager: "http://s"},
		Outputs:   map[string]string{"ApiUrl": "http://127.0.0.1:4010/prod/webhooks"},
		APIs: []API{{LogicalID: "Api", URL: "http://127.0.0.1:4010", Stages: map[string]string{"prod": "http://127.0.0.1:4010/prod"},
			Routes: []string{"POST /webhooks"}, Keys: map[string]string{"Key": "key"}}},
		Functions:   []Function{{LogicalID: "Ingest", Name: "ingest", Service: "ingest", Log: "ingest.log"}},
		LogDir:      ".payhook/logs",
		Pids:        map[string][]int{"payhook-local": {42}},
		Unsupported: []Unsupported{{LogicalID: "Waf", Type: "AWS::WAFv2::WebACL", Reason: "no WAF"}},
	}
}

// keys lists the JSON object keys of v, nested ones as parent.child (array elements as
// parent[].child).
func keys(prefix string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			out = append(out, prefix+k)
			out = append(out, keys(prefix+k+".", c)...)
		}
	case []any:
		if len(v) > 0 {
			out = append(out, keys(prefix[:len(prefix)-1]+"[].", v[0])...)
		}
	}
	return out
}

// The file's field names are what the probes and older state files rely on: renaming one is
// a change of the file's format, not a refactoring.
func TestJSONFieldNames(t *testing.T) {
	b, err := json.Marshal(full())
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v))
	got := keys("", v)
	for _, m := range []string{"outputs.", "apis[].stages.", "apis[].keys.", "pids."} {
		got = dropUnder(got, m) // map keys are data, not field names
	}
	sort.Strings(got)
	assert.Equal(t, []string{"api_key", "apis", "apis[].keys", "apis[].logical_id", "apis[].routes", "apis[].stages", "apis[].url",
		"dlq_url", "emulators", "emulators.dynamodb", "emulators.secretsmanager", "emulators.sns", "emulators.sqs",
		"endpoint", "functions", "functions[].log", "functions[].logical_id", "functions[].name", "functions[].service",
		"live", "log_dir", "outputs", "pids", "providers", "providers[].api_key", "providers[].name", "providers[].scheme",
		"providers[].secret", "queue_url", "region", "running", "stack", "started_at", "startup_ms", "table", "template",
		"topic_arn", "unsupported", "unsupported[].logical_id", "unsupported[].reason", "unsupported[].type"}, got)
	// The second provider's optional fields, which the first leaves out.
	assert.Contains(t, string(b), `"format":{"format":"stripe"}`)
	assert.Contains(t, string(b), `"keyless":true`)
}

func dropUnder(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if len(k) <= len(prefix) || k[:len(prefix)] != prefix {
			out = append(out, k)
		}
	}
	return out
}

func TestWriteThenRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "local.json")
	want := full()
	require.NoError(t, Write(path, want))

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the file holds the local secrets")

	got, err := Read(path)
	require.NoError(t, err)
	// A format is kept as JSON, re-indented with the file.
	require.Len(t, got.Providers, 2)
	assert.JSONEq(t, string(want.Providers[1].Format), string(got.Providers[1].Format))
	got.Providers[1].Format = want.Providers[1].Format
	assert.Equal(t, want, got)

	// A second write replaces the file and leaves no temporary file behind.
	want.Running, want.Pids = false, nil
	require.NoError(t, Write(path, want))
	got, err = Read(path)
	require.NoError(t, err)
	assert.False(t, got.Running)
	assert.Empty(t, got.Pids)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

func TestReadMissingIsNil(t *testing.T) {
	s, err := Read(filepath.Join(t.TempDir(), "local.json"))
	require.NoError(t, err)
	assert.Nil(t, s)
}

func TestReadMalformedNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"running": "yes"}`), 0o600))
	_, err := Read(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}
