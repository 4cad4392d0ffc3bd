package envs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommittedSchemasAreUpToDate(t *testing.T) {
	for _, tc := range []struct {
		file string
		gen  func() ([]byte, error)
	}{{SchemaFile, Schema}, {PipelineSchemaFile, PipelineSchema}} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := tc.gen()
			require.NoError(t, err)
			got, err := os.ReadFile(tc.file)
			require.NoError(t, err)
			if !bytes.Equal(want, got) {
				t.Fatalf("envs/%s is stale (%s): run `go run mage.go gen`", tc.file, firstDiff(string(got), string(want)))
			}
		})
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, generated %q", i+1, gl, wl)
		}
	}
	return "same lines"
}

func TestSchemaFormat(t *testing.T) {
	for _, gen := range []func() ([]byte, error){Schema, PipelineSchema} {
		a, err := gen()
		require.NoError(t, err)
		b, err := gen()
		require.NoError(t, err)
		assert.Equal(t, a, b, "deterministic")
		assert.True(t, bytes.HasSuffix(a, []byte("}\n")), "newline-terminated")
		assert.True(t, bytes.HasPrefix(a, []byte("{\n  \"$defs\"")) || bytes.HasPrefix(a, []byte("{\n  \"$schema\"")), "2-space indent, sorted keys")

		var doc map[string]any
		require.NoError(t, json.Unmarshal(a, &doc))
		assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"])
		assert.Equal(t, false, doc["additionalProperties"])
	}
}

func TestWriteSchemas(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteSchemas(dir))
	for name, gen := range map[string]func() ([]byte, error){SchemaFile: Schema, PipelineSchemaFile: PipelineSchema} {
		want, err := gen()
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
	require.Error(t, WriteSchemas(filepath.Join(dir, "missing")))
}

func TestYAMLFilesNameTheirSchema(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		want := "# yaml-language-server: $schema=./" + SchemaFile + "\n"
		if f == PipelineFile {
			want = "# yaml-language-server: $schema=./" + PipelineSchemaFile + "\n"
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(src), want), "%s must start with %q", f, want)
	}
}

// walkObjects calls fn with every object schema (one with "properties") in s.
func walkObjects(s any, fn func(obj map[string]any)) {
	switch v := s.(type) {
	case map[string]any:
		if _, ok := v["properties"].(map[string]any); ok {
			fn(v)
		}
		for _, c := range v {
			walkObjects(c, fn)
		}
	case []any:
		for _, c := range v {
			walkObjects(c, fn)
		}
	}
}

func TestSchemaDescriptionsAndDefaults(t *testing.T) {
	for _, gen := range []func() ([]byte, error){Schema, PipelineSchema} {
		b, err := gen()
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(b, &doc))
		defs, _ := doc["$defs"].(map[string]any)
		objects := append([]any{doc}, func() []any {
			var out []any
			for _, d := range defs {
				out = append(out, d)
			}
			return out
		}()...)
		for _, o := range objects {
			obj := o.(map[string]any)
			assert.Equal(t, false, obj["additionalProperties"])
			assert.NotEmpty(t, obj["description"])
			for name, p := range obj["properties"].(map[string]any) {
				prop := p.(map[string]any)
				desc, _ := prop["description"].(string)
				assert.NotEmpty(t, desc, name)
				if def, ok := prop["default"]; ok {
					assert.Contains(t, desc, fmt.Sprintf("Default: %v.", def), "%s: the doc comment must state the default of Defaults()", name)
				} else {
					assert.NotContains(t, desc, "Default:", "%s: documented default missing from Defaults()", name)
				}
			}
		}
	}
}

func TestSchemaConstraintsMatchTags(t *testing.T) {
	b, err := Schema()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	defs := doc["$defs"].(map[string]any)
	prop := func(def, name string) map[string]any {
		obj := doc
		if def != "" {
			obj = defs[def].(map[string]any)
		}
		return obj["properties"].(map[string]any)[name].(map[string]any)
	}
	assert.Equal(t, map[string]any{"$ref": "#/$defs/Function", "description": prop("Functions", "ingest")["description"]}, prop("Functions", "ingest"))
	assert.InDelta(t, 128, prop("Function", "memory_mb")["minimum"], 0)
	assert.InDelta(t, 10240, prop("Function", "memory_mb")["maximum"], 0)
	assert.Equal(t, []any{"none", "manual"}, prop("", "approval")["enum"])
	assert.Equal(t, []any{"all-at-once", "canary", "linear"}, prop("Deployment", "strategy")["enum"])
	assert.Equal(t, []any{"standard-webhooks", "stripe", "none"}, prop("Provider", "scheme")["enum"])
	assert.Equal(t, "email", prop("Alarms", "emails")["items"].(map[string]any)["format"])
	assert.InDelta(t, 0, prop("Alarms", "error_rate_percent")["exclusiveMinimum"], 0)
	assert.Equal(t, []any{"name", "region", "providers", "functions", "queue", "worker", "alarms", "log_retention_days"}, doc["required"])
	assert.Equal(t, []any{"memory_mb", "timeout_seconds"}, defs["Function"].(map[string]any)["required"])
	assert.NotContains(t, defs["Function"].(map[string]any)["required"], "reserved_concurrency")
}

// compileSchema compiles a generated schema with format assertions on.
func compileSchema(t *testing.T, gen func() ([]byte, error)) *jsonschema.Schema {
	t.Helper()
	b, err := gen()
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("schema.json", doc))
	s, err := c.Compile("schema.json")
	require.NoError(t, err, "the generated schema must be a valid 2020-12 schema")
	return s
}

// yamlInstance reads a YAML file as a JSON Schema instance.
func yamlInstance(t *testing.T, file string) any {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	var v any
	require.NoError(t, yaml.Unmarshal(src, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return inst
}

// The schema and the validator must agree: editors flag what LoadFile
// rejects, as far as JSON Schema can express it.
func TestSchemaAgreesWithValidator(t *testing.T) {
	envSchema := compileSchema(t, Schema)
	pipelineSchema := compileSchema(t, PipelineSchema)

	t.Run("committed files are valid", func(t *testing.T) {
		files, err := filepath.Glob("*.yaml")
		require.NoError(t, err)
		for _, f := range files {
			s := envSchema
			if f == PipelineFile {
				s = pipelineSchema
			}
			assert.NoError(t, s.Validate(yamlInstance(t, f)), f)
		}
	})
	t.Run("minimal file is valid", func(t *testing.T) {
		f := writeFile(t, t.TempDir(), "minimal.yaml", fmt.Sprintf(minimalEnv, "minimal"))
		assert.NoError(t, envSchema.Validate(yamlInstance(t, f)))
	})
	for _, tc := range badCases() {
		t.Run(tc.file, func(t *testing.T) {
			err := envSchema.Validate(yamlInstance(t, filepath.Join("testdata", "bad", tc.file+".yaml")))
			if tc.inSchema {
				assert.Error(t, err, "the schema should reject %s", tc.file)
			} else {
				assert.NoError(t, err, "beyond JSON Schema: only the validator sees %s", tc.file)
			}
		})
	}
	more := []struct {
		name    string
		content string
		valid   bool
	}{
		{"local without order", strings.Replace(fmt.Sprintf(minimalEnv, "xx"), "order: 1\n", "local_only: true\n", 1), true},
		{"deployable without order", strings.Replace(fmt.Sprintf(minimalEnv, "xx"), "order: 1\n", "", 1), false},
		{"local with manual approval", strings.Replace(fmt.Sprintf(minimalEnv, "xx"), "order: 1\n", "local_only: true\napproval: manual\n", 1), false},
		{"all-at-once with an interval", fmt.Sprintf(minimalEnv, "xx") + "deployment:\n  interval_minutes: 5\n", false},
		{"linear every 5 minutes", fmt.Sprintf(minimalEnv, "xx") + "deployment:\n  strategy: linear\n  percent: 10\n  interval_minutes: 5\n", false},
		{"linear every 10 minutes", fmt.Sprintf(minimalEnv, "xx") + "deployment:\n  strategy: linear\n  percent: 10\n  interval_minutes: 10\n", true},
		{"tag key starting with aws:", fmt.Sprintf(minimalEnv, "xx") + "tags:\n  \"aws:x\": y\n", false},
		{"tags", fmt.Sprintf(minimalEnv, "xx") + "tags:\n  team: payments\n", true},
		{"batch 11 with a window", strings.Replace(fmt.Sprintf(minimalEnv, "xx"), "batch_size: 10", "batch_size: 11\n  batching_window_seconds: 1", 1), true},
		{"retained data with approval and an account", yearOfLogs(inAccount(fmt.Sprintf(minimalEnv, "xx"), "222222222222")) + "retain_data: true\napproval: manual\n", true},
		{"retained data with a month of logs", inAccount(fmt.Sprintf(minimalEnv, "xx"), "222222222222") + "retain_data: true\napproval: manual\n", false},
		{"retained data without an account", yearOfLogs(inAccount(fmt.Sprintf(minimalEnv, "xx"), "")) + "retain_data: true\napproval: manual\n", false},
		{"deployable without an account", inAccount(fmt.Sprintf(minimalEnv, "xx"), ""), false},
	}
	for _, tc := range more {
		t.Run(tc.name, func(t *testing.T) {
			f := writeFile(t, t.TempDir(), "xx.yaml", tc.content)
			_, loadErr := LoadFile(f)
			schemaErr := envSchema.Validate(yamlInstance(t, f))
			assert.Equal(t, tc.valid, loadErr == nil, "LoadFile: %v", loadErr)
			assert.Equal(t, tc.valid, schemaErr == nil, "schema: %v", schemaErr)
		})
	}
}
