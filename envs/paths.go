package envs

import (
	"slices"
	"strconv"
	"strings"
)

// fieldPath is a path to a field as its rendered segments: keys ("queue"),
// indexes ("[1]") and quoted map keys (`["a.b"]`).
type fieldPath []string

// child returns p extended by the mapping key name.
func (p fieldPath) child(name string) fieldPath {
	return append(slices.Clip(p), name)
}

// index returns p extended by the list index i.
func (p fieldPath) index(i int) fieldPath {
	return append(slices.Clip(p), "["+strconv.Itoa(i)+"]")
}

// key returns p extended by the map key k, quoted unless it is a plain word.
func (p fieldPath) key(k string) fieldPath {
	if plainKey(k) {
		return p.child(k)
	}
	return append(slices.Clip(p), "["+strconv.Quote(k)+"]")
}

// plainKey reports whether k can be written unquoted in a field path.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// String renders p, e.g. "providers[1].name"; the root renders as "(root)".
func (p fieldPath) String() string {
	if len(p) == 0 {
		return "(root)"
	}
	var b strings.Builder
	for i, s := range p {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
