package cfn

import (
	"fmt"
	"strconv"
	"strings"
)

// The helpers below read resolved JSON values (Resolver.Resolve's results) leniently, as
// provisioning reads nested properties: a value of the wrong type reads as empty.

// AsList returns v as a list (nil when it is not one).
func AsList(v any) []any {
	l, _ := v.([]any)
	return l
}

// AsMap returns v as an object (nil when it is not one).
func AsMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// AsString returns the scalar v formatted as CloudFormation does ("" when v is not a
// scalar).
func AsString(v any) string {
	s, err := ScalarString(v)
	if err != nil {
		return ""
	}
	return s
}

// AsBool returns v as a boolean (a bool or "true"/"false"), def when it is neither.
func AsBool(v any, def bool) bool {
	if b, ok := asBool(v); ok {
		return b
	}
	return def
}

func asBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		if p, err := strconv.ParseBool(b); err == nil {
			return p, true
		}
	}
	return false, false
}

// ScalarString formats a resolved scalar as CloudFormation does in strings.
func ScalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	default:
		return "", fmt.Errorf("expected a string, got %T %v", v, v)
	}
}

// ToInt returns an integral number or numeric string as an int.
func ToInt(v any) (int, error) {
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int(x), nil
	case int:
		return x, nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%v is not an integer", v)
	}
}

// LookupPath returns the raw value at a dotted path of properties (e.g.
// "Environment.Variables.TABLE_NAME") and whether it is there.
func LookupPath(props map[string]any, path string) (any, bool) {
	var cur any = props
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}
