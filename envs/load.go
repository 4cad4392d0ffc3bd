package envs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// PipelineFile is the base name of the pipeline configuration in an envs
// directory; LoadDir skips it.
const PipelineFile = "pipeline.yaml"

// FieldError is one problem of a configuration file. Its Error reads
// "<file>:<line>: <field path>: <problem>"; File and Line are empty when the
// value was not loaded from a file (see [Env.Validate]).
type FieldError struct {
	// File is the path of the file as given to the loader.
	File string
	// Line is the 1-based line of the offending key (for a missing key, of its
	// parent mapping, or 1 at the top level).
	Line int
	// Path is the field path, e.g. "functions.ingest.memory_mb" or
	// "providers[1].name"; empty for YAML syntax errors.
	Path string
	// Message says what is wrong, e.g. "unknown field" or "required".
	Message string
}

// Error implements error.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// LoadFile reads, decodes and validates one environment file. Every problem
// found is returned at once (an errors.Join of *FieldError sorted by line),
// except that decoding problems (syntax, unknown keys, wrong types) stop
// before validation. The environment's name must equal the file's base name.
func LoadFile(path string) (Env, error) {
	env, _, err := loadEnv(path)
	if err != nil {
		return Env{}, err
	}
	return env, nil
}

// LoadDir loads every *.yaml file of dir except pipeline.yaml, returns the
// environments sorted by (order, name), and checks that no two files declare
// the same name. Problems of all files are returned together. A directory
// without environment files is an error.
func LoadDir(dir string) ([]Env, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("envs: list %s: %w", dir, err)
	}
	var (
		envs []Env
		errs []error
		seen = map[string]string{} // name -> "file:line"
	)
	for _, entry := range entries {
		if entry.IsDir() || filepath.Ext(entry.Name()) != ".yaml" || entry.Name() == PipelineFile {
			continue
		}
		file := filepath.Join(dir, entry.Name())
		env, doc, err := loadEnv(file)
		if err != nil {
			errs = append(errs, err)
		}
		if doc == nil || env.Name == "" {
			continue // no name to compare
		}
		line := doc.line(fieldPath{"name"})
		if first, dup := seen[env.Name]; dup {
			errs = append(errs, &FieldError{
				File: file, Line: line, Path: "name",
				Message: fmt.Sprintf("duplicate environment name %q, also declared in %s", env.Name, first),
			})
			continue
		}
		seen[env.Name] = fmt.Sprintf("%s:%d", file, line)
		if err == nil {
			env.accountAt = fmt.Sprintf("%s:%d", file, doc.line(fieldPath{"account"}))
			envs = append(envs, env)
		}
	}
	errs = append(errs, separation(envs)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("envs: %s holds no environment file (*.yaml other than %s)", dir, PipelineFile)
	}
	sortEnvs(envs)
	return envs, nil
}

// LoadPipeline reads, decodes and validates the pipeline configuration, with
// the same strictness and error format as [LoadFile].
func LoadPipeline(path string) (Pipeline, error) {
	p := PipelineDefaults()
	doc, err := decodeFile(path, &p)
	if err != nil {
		return Pipeline{}, err
	}
	issues, err := p.issues(doc.has)
	if err != nil {
		return Pipeline{}, fmt.Errorf("envs: validate %s: %w", path, err)
	}
	if err := doc.join(issues); err != nil {
		return Pipeline{}, err
	}
	return p, nil
}

// loadEnv loads one environment file. The returned document is nil when the
// file could not be decoded; otherwise env holds the decoded value even when
// validation failed, so that LoadDir can still compare names.
func loadEnv(path string) (Env, *document, error) {
	env := Defaults()
	doc, err := decodeFile(path, &env)
	if err != nil {
		return Env{}, nil, err
	}
	issues, err := env.issues(doc.has)
	if err != nil {
		return Env{}, nil, fmt.Errorf("envs: validate %s: %w", path, err)
	}
	if base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)); env.Name != base {
		issues = append(issues, issue{fieldPath{"name"},
			fmt.Sprintf("must equal the file's base name %q, got %q", base, env.Name)})
	}
	if err := doc.join(issues); err != nil {
		return env, doc, err
	}
	return env, doc, nil
}

// issue is one validation problem, located by field path only.
type issue struct {
	path fieldPath
	msg  string
}

// document is a decoded YAML file: its name and the line of every key and
// list item present in it, by rendered field path.
type document struct {
	file  string
	lines map[string]int
	// unknown are the unknown keys found, reported together with the validation's issues.
	unknown []*FieldError
}

// has reports whether the file holds the key or item at p.
func (d *document) has(p fieldPath) bool {
	_, ok := d.lines[p.String()]
	return ok
}

// line returns the line of p, or of its nearest ancestor present in the
// file, or 1.
func (d *document) line(p fieldPath) int {
	for n := len(p); n > 0; n-- {
		if l, ok := d.lines[p[:n].String()]; ok {
			return l
		}
	}
	// A top-level key that is absent: the document's first key, past any header comment.
	first := 0
	for _, l := range d.lines {
		if first == 0 || l < first {
			first = l
		}
	}
	return max(first, 1)
}

// join turns issues into one error of *FieldError sorted by line, or nil.
func (d *document) join(issues []issue) error {
	if len(issues) == 0 && len(d.unknown) == 0 {
		return nil
	}
	fes := append(make([]*FieldError, 0, len(issues)+len(d.unknown)), d.unknown...)
	for _, is := range issues {
		fes = append(fes, &FieldError{File: d.file, Line: d.line(is.path), Path: is.path.String(), Message: is.msg})
	}
	return joinSorted(fes)
}

// joinSorted sorts field errors by (line, path, message) and joins them.
func joinSorted(fes []*FieldError) error {
	slices.SortStableFunc(fes, func(a, b *FieldError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Path+"\x00"+a.Message, b.Path+"\x00"+b.Message)
	})
	errs := make([]error, len(fes))
	for i, fe := range fes {
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// decodeFile reads the YAML file at path into dst, a pointer to a struct
// holding the defaults. It first walks the YAML tree against dst's type and
// reports every unknown key and wrong YAML type with its line, then decodes
// with goccy/go-yaml in strict mode.
func decodeFile(path string, dst any) (*document, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("envs: read %s: %w", path, err)
	}
	// Duplicate keys are reported by the shape walk, with their field path.
	f, err := parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, yamlError(path, nil, err)
	}
	doc := &document{file: path, lines: map[string]int{}}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, &FieldError{File: path, Line: 1, Path: fieldPath{}.String(), Message: "file is empty"}
	case len(docs) > 1:
		return nil, &FieldError{File: path, Line: docs[1].Body.GetToken().Position.Line,
			Path: fieldPath{}.String(), Message: "only one YAML document is allowed"}
	}
	body := docs[0].Body
	w := &shapeWalker{doc: doc, unknown: map[*ast.MappingNode][]*ast.MappingValueNode{}}
	w.walk(reflect.TypeOf(dst).Elem(), body, fieldPath{}, 1)
	if w.fatal {
		return nil, joinSorted(w.errs)
	}
	// Unknown keys are reported with everything validation finds in the rest of the file.
	w.dropUnknown()
	doc.unknown = w.errs
	if err := yaml.NodeToValue(body, dst, yaml.Strict()); err != nil {
		return nil, yamlError(path, doc, err)
	}
	return doc, nil
}

// yamlError converts an error of goccy/go-yaml into a *FieldError located by
// its token, naming the field on that line when doc knows one.
func yamlError(file string, doc *document, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return fmt.Errorf("envs: decode %s: %w", file, err)
	}
	line := ye.GetToken().Position.Line
	fe := &FieldError{File: file, Line: line, Message: ye.GetMessage()}
	if doc == nil {
		fe.Message = "syntax error: " + fe.Message
		return fe
	}
	// The deepest path whose key is on the error's line (the first in
	// order among equals, for a deterministic message).
	for p, l := range doc.lines {
		if l == line && (fe.Path == "" || len(p) > len(fe.Path) || len(p) == len(fe.Path) && p < fe.Path) {
			fe.Path = p
		}
	}
	return fe
}

// shapeWalker compares a YAML tree with a Go type, recording the line of
// every key and list item and collecting unknown keys and wrong types.
type shapeWalker struct {
	doc  *document
	errs []*FieldError
	// unknown are the entries of unknown keys, by the mapping holding them: reported, then
	// dropped, so that the rest of the file is still decoded and validated.
	unknown map[*ast.MappingNode][]*ast.MappingValueNode
	// fatal is set by a problem that stops decoding (a wrong type, an alias, ...).
	fatal bool
}

// fail records a problem at line that stops decoding.
func (w *shapeWalker) fail(p fieldPath, line int, format string, args ...any) {
	w.fatal = true
	w.errs = append(w.errs, &FieldError{File: w.doc.file, Line: line, Path: p.String(), Message: fmt.Sprintf(format, args...)})
}

// dropUnknown removes the entries of unknown keys from their mappings.
func (w *shapeWalker) dropUnknown() {
	for m, drop := range w.unknown {
		m.Values = slices.DeleteFunc(m.Values, func(v *ast.MappingValueNode) bool { return slices.Contains(drop, v) })
	}
}

// walk checks node n, found at path p on line line, against type t.
func (w *shapeWalker) walk(t reflect.Type, n ast.Node, p fieldPath, line int) {
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode, *ast.TagNode:
		w.fail(p, line, "YAML anchors, aliases and tags are not supported")
		return
	}
	_, isNull := n.(*ast.NullNode)
	switch t.Kind() {
	case reflect.Pointer:
		if !isNull {
			w.walk(t.Elem(), n, p, line)
		}
	case reflect.Struct, reflect.Map:
		if isNull {
			return // an empty mapping: the defaults stay
		}
		if !isMapping(n) {
			w.fail(p, line, "must be a mapping, got %s", nodeKind(n))
			return
		}
		m, _ := n.(*ast.MappingNode)
		for _, mv := range mappingValues(n) {
			w.walkEntry(t, m, mv, p)
		}
	case reflect.Slice:
		if isNull {
			return
		}
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			w.fail(p, line, "must be a list, got %s", nodeKind(n))
			return
		}
		for i, item := range seq.Values {
			ip := p.index(i)
			il := item.GetToken().Position.Line
			w.doc.lines[ip.String()] = il
			w.walk(t.Elem(), item, ip, il)
		}
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode:
		default:
			w.fail(p, line, "must be a string, got %s", nodeKind(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, ok := n.(*ast.IntegerNode); !ok {
			w.fail(p, line, "must be an integer, got %s", nodeKind(n))
		}
	case reflect.Float32, reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		default:
			w.fail(p, line, "must be a number, got %s", nodeKind(n))
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			w.fail(p, line, "must be true or false, got %s", nodeKind(n))
		}
	default:
		w.fail(p, line, "unsupported Go type %s", t)
	}
}

// walkEntry checks one key: value entry of a mapping decoded into t, a struct
// or a map with string keys.
func (w *shapeWalker) walkEntry(t reflect.Type, m *ast.MappingNode, mv *ast.MappingValueNode, p fieldPath) {
	line := mv.Key.GetToken().Position.Line
	var name string
	switch k := mv.Key.(type) {
	case *ast.StringNode:
		name = k.Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		name = k.GetToken().Value
	case *ast.MergeKeyNode:
		w.fail(p, line, "YAML merge keys (<<) are not supported")
		return
	default:
		w.fail(p, line, "unsupported YAML key %s", nodeKind(mv.Key))
		return
	}
	var (
		kp   fieldPath
		elem reflect.Type
	)
	if t.Kind() == reflect.Map {
		kp, elem = p.key(name), t.Elem()
	} else {
		f, ok := fieldByKey(t, name)
		if !ok {
			w.errs = append(w.errs, &FieldError{File: w.doc.file, Line: line, Path: p.child(name).String(), Message: "unknown field"})
			if m == nil { // a mapping of one entry: nothing would be left to decode
				w.fatal = true
				return
			}
			w.unknown[m] = append(w.unknown[m], mv)
			return
		}
		kp, elem = p.child(name), f.Type
	}
	if first, dup := w.doc.lines[kp.String()]; dup {
		w.fail(kp, line, "duplicate key, already defined on line %d", first)
		return
	}
	w.doc.lines[kp.String()] = line
	w.walk(elem, mv.Value, kp, line)
}

// mappingValues returns the entries of a mapping node, or nil.
func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

// isMapping reports whether n is a (possibly empty) mapping.
func isMapping(n ast.Node) bool {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

// nodeKind names the YAML kind of n for error messages.
func nodeKind(n ast.Node) string {
	switch v := n.(type) {
	case *ast.StringNode:
		return fmt.Sprintf("string %q", v.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.IntegerNode:
		return "integer " + v.GetToken().Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number " + v.GetToken().Value
	case *ast.BoolNode:
		return "boolean " + v.GetToken().Value
	case *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return n.Type().String()
}

// fieldByKey returns the field of struct type t whose yaml key is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKey returns the YAML key of a struct field: its yaml tag name.
func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}
