// Package constructstest is the CDK test kit of these constructs' tests, and of an app that
// uses them: a fresh stack per test on one App per test binary, a code directory with a
// dummy bootstrap, and a synthesized template read as plain Go maps (so a mismatch fails the
// test instead of panicking the binary, as a failed aws-cdk-go assertions.Template matcher
// does), with finders and a number reader.
package constructstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// NewStack returns a new stack for one test. It lives in its own Stage under
// app, so synthesizing it does not synthesize every other test's stack
// again; app stays the one App (and jsii runtime) of the test binary.
func NewStack(app awscdk.App, id string) awscdk.Stack {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, id)
	stage := awscdk.NewStage(app, jsii.String(clean), nil)
	return awscdk.NewStack(stage, jsii.String("Stack"), nil)
}

// CodeDir returns a temporary directory holding an executable dummy
// "bootstrap", removed when the test ends.
func CodeDir(t testing.TB) *string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatalf("write bootstrap: %v", err)
	}
	return jsii.String(dir)
}

// TempCodeDir creates a directory holding an executable stand-in "bootstrap", for Example
// functions (which have no testing.TB); the caller removes it.
func TempCodeDir() (string, error) {
	dir, err := os.MkdirTemp("", "payhook-example-")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
}

// Template is a synthesized CloudFormation template as plain Go values.
type Template map[string]any

// Synth synthesizes stack and returns its template. A synthesis error fails
// the test.
func Synth(t testing.TB, stack awscdk.Stack) Template {
	t.Helper()
	var raw *map[string]any
	msg := Recover(func() { raw = assertions.Template_FromStack(stack, nil).ToJSON() })
	if msg != "" {
		t.Fatalf("synthesize %s: %s", *stack.Node().Path(), msg)
	}
	// Round-trip through JSON so every value is a plain map, slice, string,
	// float64 or bool.
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatalf("marshal template: %v", err)
	}
	var tpl Template
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("unmarshal template: %v", err)
	}
	return tpl
}

// Resources returns the Properties of every resource of type typ, by
// logical id.
func (tpl Template) Resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tpl["Resources"].(map[string]any)
	for id, r := range res {
		rm, _ := r.(map[string]any)
		if rm["Type"] == typ {
			props, _ := rm["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}

// Resource returns the whole resource (Type, Properties, DependsOn, ...)
// with logical id id, or nil.
func (tpl Template) Resource(id string) map[string]any {
	res, _ := tpl["Resources"].(map[string]any)
	r, _ := res[id].(map[string]any)
	return r
}

// Number reads a template number (float64 after JSON decoding, or json.Number); -1 when v is
// not a number.
func Number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case json.Number:
		f, err := n.Float64()
		if err == nil {
			return f
		}
	}
	return -1
}

// Count returns how many resources of type typ the template has.
func (tpl Template) Count(typ string) int { return len(tpl.Resources(typ)) }

// One returns the logical id and Properties of the only resource of type
// typ, failing the test when there is not exactly one.
func (tpl Template) One(t testing.TB, typ string) (string, map[string]any) {
	t.Helper()
	rs := tpl.Resources(typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d: %v", typ, len(rs), slices.Sorted(maps.Keys(rs)))
	}
	for id, p := range rs {
		return id, p
	}
	return "", nil
}

// AlarmOn returns the properties of the one CloudWatch alarm on metric; none or several fail
// the test.
func (tpl Template) AlarmOn(t testing.TB, metric string) map[string]any {
	t.Helper()
	_, a := tpl.Where(t, "AWS::CloudWatch::Alarm", func(p map[string]any) bool { return p["MetricName"] == metric })
	return a
}

// Where returns the logical id and Properties of the only resource of type
// typ for which match is true, failing the test otherwise.
func (tpl Template) Where(t testing.TB, typ string, match func(props map[string]any) bool) (string, map[string]any) {
	t.Helper()
	var id string
	var props map[string]any
	n := 0
	for k, p := range tpl.Resources(typ) {
		if match(p) {
			id, props = k, p
			n++
		}
	}
	if n != 1 {
		t.Fatalf("want exactly one matching %s, got %d", typ, n)
	}
	return id, props
}

// Get walks v by map keys (string) and slice indexes (int) and returns what
// it finds, or nil.
func Get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k < 0 || k >= len(s) {
				return nil
			}
			v = s[k]
		default:
			return nil
		}
	}
	return v
}

// Ref is the CloudFormation {"Ref": id} value.
func Ref(id string) map[string]any { return map[string]any{"Ref": id} }

// GetAtt is the CloudFormation {"Fn::GetAtt": [id, attr]} value.
func GetAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

// Recover runs f and returns the message of its panic, or "" when it did
// not panic.
func Recover(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "panic with an empty message"
			}
		}
	}()
	f()
	return ""
}

// MustPanic runs f, fails the test if it does not panic, and returns the
// panic message.
func MustPanic(t testing.TB, f func()) string {
	t.Helper()
	msg := Recover(f)
	if msg == "" {
		t.Fatalf("expected a panic, got none")
	}
	return msg
}
