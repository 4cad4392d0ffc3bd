package envs

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/payhook/payhook/internal/contract"
)

// Names of the generated schema files in an envs directory.
const (
	// SchemaFile is the JSON Schema of environment files.
	SchemaFile = "schema.json"
	// PipelineSchemaFile is the JSON Schema of pipeline.yaml.
	PipelineSchemaFile = "pipeline.schema.json"
)

// typeSources holds the source of the configuration types, whose doc
// comments become the schema descriptions. It is only read (embed needs a
// package-level variable).
//
//go:embed envs.go pipeline.go
var typeSources embed.FS

// Schema returns the JSON Schema (draft 2020-12) of environment files,
// generated from [Env]: deterministic, 2-space indented, newline-terminated.
func Schema() ([]byte, error) {
	return generate(reflect.TypeFor[Env](), reflect.ValueOf(Defaults()), "payhook environment")
}

// PipelineSchema returns the JSON Schema (draft 2020-12) of pipeline.yaml,
// generated from [Pipeline], in the same format as [Schema].
func PipelineSchema() ([]byte, error) {
	return generate(reflect.TypeFor[Pipeline](), reflect.ValueOf(PipelineDefaults()), "payhook pipeline")
}

// WriteSchemas writes schema.json and pipeline.schema.json into dir.
func WriteSchemas(dir string) error {
	for _, s := range []struct {
		name string
		gen  func() ([]byte, error)
	}{{SchemaFile, Schema}, {PipelineSchemaFile, PipelineSchema}} {
		b, err := s.gen()
		if err != nil {
			return err
		}
		path := filepath.Join(dir, s.name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("envs: write %s: %w", path, err)
		}
	}
	return nil
}

// generate builds the schema of the struct type root, whose defaults are def.
func generate(root reflect.Type, def reflect.Value, title string) ([]byte, error) {
	docs, err := typeDocs()
	if err != nil {
		return nil, err
	}
	g := &generator{docs: docs, defs: map[string]any{}}
	s, err := g.object(root, def)
	if err != nil {
		return nil, fmt.Errorf("envs: schema of %s: %w", root.Name(), err)
	}
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = title
	if len(g.defs) > 0 {
		s["$defs"] = g.defs
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("envs: encode schema of %s: %w", root.Name(), err)
	}
	return buf.Bytes(), nil
}

// typeDocs returns the doc comments of the configuration types ("Env") and
// of their fields ("Env.Name"), each on one line.
func typeDocs() (map[string]string, error) {
	docs := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range []string{"envs.go", "pipeline.go"} {
		src, err := typeSources.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("envs: read embedded %s: %w", name, err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("envs: parse embedded %s: %w", name, err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil {
					doc = gd.Doc
				}
				docs[ts.Name.Name] = oneLine(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, field := range st.Fields.List {
					doc := field.Doc
					if doc == nil {
						doc = field.Comment
					}
					for _, n := range field.Names {
						docs[ts.Name.Name+"."+n.Name] = oneLine(doc)
					}
				}
			}
		}
	}
	return docs, nil
}

// oneLine returns the text of a comment on one line.
func oneLine(c *ast.CommentGroup) string {
	if c == nil {
		return ""
	}
	return strings.Join(strings.Fields(c.Text()), " ")
}

// generator builds a JSON Schema from Go types.
type generator struct {
	docs map[string]string
	defs map[string]any
}

// object returns the schema of struct type t; def holds its defaults.
func (g *generator) object(t reflect.Type, def reflect.Value) (map[string]any, error) {
	props := map[string]any{}
	required := []string{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue // bookkeeping of the loader, not a field of the file
		}
		key := yamlKey(f)
		if key == "" {
			return nil, fmt.Errorf("%s.%s: no yaml key", t.Name(), f.Name)
		}
		doc := g.docs[t.Name()+"."+f.Name]
		if doc == "" {
			return nil, fmt.Errorf("%s.%s: no doc comment", t.Name(), f.Name)
		}
		r, err := parseRules(f.Tag.Get("schema"))
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		dv := def.Field(i)
		s, err := g.field(f.Type, r, dv)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		s["description"] = doc
		if r.required {
			required = append(required, key)
		} else if d, ok := defaultOf(dv, r); ok {
			s["default"] = d
		}
		props[key] = s
	}
	s := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"properties":           props,
	}
	if doc := g.docs[t.Name()]; doc != "" {
		s["description"] = doc
	}
	if len(required) > 0 {
		s["required"] = required
	}
	if all := crossFieldSchema(t); len(all) > 0 {
		s["allOf"] = all
	}
	return s, nil
}

// defaultOf returns the schema default of a field holding dv in the defaults
// with rules r: its value, when it is a string, number or boolean that the
// rules accept. A zero string or number counts only where rules exist to
// accept it: an empty account, a zero order or interval is "unset", not a
// default.
func defaultOf(dv reflect.Value, r rules) (any, bool) {
	if dv.IsZero() && dv.Kind() != reflect.Bool && reflect.ValueOf(r).IsZero() {
		return nil, false
	}
	var v any
	switch dv.Kind() {
	case reflect.Bool:
		v = dv.Bool()
	case reflect.String:
		v = dv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v = dv.Int()
	case reflect.Float32, reflect.Float64:
		v = dv.Float()
	default:
		return nil, false
	}
	c := &checker{}
	if err := c.checkScalar(dv, fieldPath{}, r); err != nil || len(c.issues) > 0 {
		return nil, false
	}
	return v, true
}

// field returns the schema of a field of type t with rules r; dv holds its
// default.
func (g *generator) field(t reflect.Type, r rules, dv reflect.Value) (map[string]any, error) {
	switch t.Kind() {
	case reflect.Pointer:
		return g.field(t.Elem(), r, reflect.Zero(t.Elem()))
	case reflect.Struct:
		name := t.Name()
		if _, done := g.defs[name]; !done {
			g.defs[name] = nil // reserve the name against recursion
			s, err := g.object(t, dv)
			if err != nil {
				return nil, err
			}
			g.defs[name] = s
		}
		return map[string]any{"$ref": "#/$defs/" + name}, nil
	case reflect.Slice:
		items, err := g.field(t.Elem(), rules{pattern: r.pattern, format: r.format, enum: r.enum}, reflect.Zero(t.Elem()))
		if err != nil {
			return nil, err
		}
		s := map[string]any{"type": "array", "items": items}
		if r.minItems != nil {
			s["minItems"] = *r.minItems
		}
		return s, nil
	case reflect.Map:
		return mapSchema(t, r)
	case reflect.String:
		s := map[string]any{"type": "string"}
		if len(r.enum) > 0 {
			s["enum"] = r.enum
		}
		if r.pattern != "" {
			s["pattern"] = r.pattern
		}
		if r.minLength != nil {
			s["minLength"] = *r.minLength
		}
		if r.maxLength != nil {
			s["maxLength"] = *r.maxLength
		}
		switch r.format {
		case formatEmail:
			s["format"] = "email"
			s["pattern"] = emailPattern
		case formatRegion:
			s["enum"] = contract.Regions()
		}
		return s, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return numberSchema("integer", r)
	case reflect.Float32, reflect.Float64:
		return numberSchema("number", r)
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// numberSchema returns the schema of an integer or number field with rules r.
func numberSchema(typ string, r rules) (map[string]any, error) {
	s := map[string]any{"type": typ}
	if len(r.enum) > 0 {
		vals := make([]float64, len(r.enum))
		for i, e := range r.enum {
			v, err := strconv.ParseFloat(e, 64)
			if err != nil {
				return nil, fmt.Errorf("enum value %q: %w", e, err)
			}
			vals[i] = v
		}
		s["enum"] = vals
	}
	for key, v := range map[string]*float64{"minimum": r.min, "maximum": r.max, "exclusiveMinimum": r.exclusiveMin} {
		if v != nil {
			s[key] = *v
		}
	}
	return s, nil
}

// regexpQuote escapes the ECMA-262 regular expression metacharacters of s.
func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\^$.|?*+()[]{}`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// crossFieldSchema returns the "allOf" conditions of struct type t: the rules
// across fields that JSON Schema can express, so that editors flag them too.
// The validator enforces them all (and the ones JSON Schema cannot express:
// unique provider names, the visibility timeout against the accounting
// timeout, DLQ retention against queue retention).
func crossFieldSchema(t reflect.Type) []any {
	when := func(prop string, cond any) map[string]any {
		return map[string]any{"required": []string{prop}, "properties": map[string]any{prop: cond}}
	}
	switch t {
	case reflect.TypeFor[Env]():
		return []any{
			map[string]any{
				"if":   when("local_only", map[string]any{"const": true}),
				"then": map[string]any{"properties": map[string]any{"approval": map[string]any{"const": ApprovalNone}, "retain_data": map[string]any{"const": false}}},
				"else": map[string]any{"required": []string{"order", "account"}},
			},
			map[string]any{
				"if": when("retain_data", map[string]any{"const": true}),
				"then": map[string]any{
					"required": []string{"approval"},
					"properties": map[string]any{
						"approval":           map[string]any{"const": ApprovalManual},
						"log_retention_days": map[string]any{"minimum": MinRetainedLogDays},
						"providers":          map[string]any{"items": map[string]any{"properties": map[string]any{"scheme": map[string]any{"not": map[string]any{"const": SchemeNone}}}}},
					},
				},
			},
		}
	case reflect.TypeFor[Deployment]():
		var all []any
		for _, s := range []Strategy{StrategyCanary, StrategyLinear} {
			all = append(all, map[string]any{
				"if": when("strategy", map[string]any{"const": s}),
				"then": map[string]any{
					"required":   []string{"percent", "interval_minutes"},
					"properties": map[string]any{"interval_minutes": map[string]any{"enum": intervalsFor(s)}},
				},
			})
		}
		return append(all, map[string]any{
			"if":   when("strategy", map[string]any{"enum": []Strategy{StrategyCanary, StrategyLinear}}),
			"else": map[string]any{"properties": map[string]any{"percent": false, "interval_minutes": false}},
		})
	case reflect.TypeFor[Provider]():
		return []any{map[string]any{
			"if":   when("keyless", map[string]any{"const": true}),
			"then": map[string]any{"properties": map[string]any{"scheme": map[string]any{"not": map[string]any{"const": SchemeNone}}}},
		}}
	case reflect.TypeFor[Functions]():
		return []any{map[string]any{"properties": map[string]any{
			"ingest": map[string]any{"properties": map[string]any{"timeout_seconds": map[string]any{"maximum": MaxIngestTimeoutSeconds}}},
		}}}
	case reflect.TypeFor[Worker]():
		return []any{map[string]any{
			"if": when("batch_size", map[string]any{"minimum": MaxUnbatchedSize + 1}),
			"then": map[string]any{
				"required":   []string{"batching_window_seconds"},
				"properties": map[string]any{"batching_window_seconds": map[string]any{"minimum": 1}},
			},
		}}
	}
	return nil
}

// mapSchema is the schema of a map of strings to strings: its key rules as propertyNames,
// its value rules as additionalProperties.
func mapSchema(t reflect.Type, r rules) (map[string]any, error) {
	if t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.String {
		return nil, fmt.Errorf("unsupported map type %s", t)
	}
	names := map[string]any{}
	if r.keyMinLength != nil {
		names["minLength"] = *r.keyMinLength
	}
	if r.keyMaxLength != nil {
		names["maxLength"] = *r.keyMaxLength
	}
	if r.keyNotPrefix != "" {
		names["not"] = map[string]any{"pattern": "^" + regexpQuote(r.keyNotPrefix)}
	}
	if r.keyPattern != "" {
		names["pattern"] = r.keyPattern
	}
	values := map[string]any{"type": "string"}
	if r.maxLength != nil {
		values["maxLength"] = *r.maxLength
	}
	if r.pattern != "" {
		values["pattern"] = r.pattern
	}
	return map[string]any{"type": "object", "propertyNames": names, "additionalProperties": values}, nil
}
