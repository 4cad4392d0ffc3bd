package notification

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
)

// canonicalMetadata checks metadata's type, depth, key uniqueness and size, and returns its
// canonical form (nil for no metadata), as the package documentation defines it.
func canonicalMetadata(raw json.RawMessage) (json.RawMessage, *Error) {
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fieldErr(CodeInvalidType, "metadata", "must be a JSON object")
	}
	if len(raw) > 4*MaxMetadataBytes {
		return nil, fieldErr(CodeInvalidValue, "metadata", "larger than %d bytes", MaxMetadataBytes)
	}
	if !pairedSurrogates(raw) {
		// Decoding would turn every lone surrogate into U+FFFD, so "\ud800" and "\udc00"
		// would be one string: refuse them rather than call two payloads equal.
		return nil, fieldErr(CodeInvalidValue, "metadata", "holds a lone UTF-16 surrogate escape (\\uD800-\\uDFFF)")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	if e := canonicalValue(dec, &out, "metadata", 0); e != nil {
		return nil, e
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fieldErr(CodeInvalidType, "metadata", "must be a JSON object")
	}
	if out.Len() > MaxMetadataBytes {
		return nil, fieldErr(CodeInvalidValue, "metadata", "larger than %d bytes", MaxMetadataBytes)
	}
	if out.String() == "{}" {
		return nil, nil
	}
	return out.Bytes(), nil
}

// CanonicalMetadata returns the canonical form of a metadata object (see above); a stored
// record's metadata goes through it to be compared with a new delivery's.
func CanonicalMetadata(raw []byte) (json.RawMessage, error) {
	out, e := canonicalMetadata(raw)
	if e != nil {
		return nil, e
	}
	return out, nil
}

// canonicalValue reads one JSON value from dec and writes its canonical form. path names
// the value in errors; level is the nesting of the value's container.
func canonicalValue(dec *json.Decoder, out *bytes.Buffer, path string, level int) *Error {
	tok, err := dec.Token()
	if err != nil {
		return fieldErr(CodeInvalidType, "metadata", "must be a JSON object")
	}
	switch v := tok.(type) {
	case json.Delim:
		if level+1 > MaxMetadataDepth {
			return fieldErr(CodeInvalidValue, "metadata", "nested more than %d levels deep", MaxMetadataDepth)
		}
		if v == '[' {
			return canonicalArray(dec, out, path, level+1)
		}
		return canonicalObject(dec, out, path, level+1)
	case json.Number:
		n, ok := canonicalNumber(string(v))
		if !ok {
			return fieldErr(CodeInvalidValue, path, "number's exponent is out of range (at most 9 digits)")
		}
		out.WriteString(n)
	case string:
		writeString(out, v)
	case bool:
		if v {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	}
	return nil
}

func canonicalArray(dec *json.Decoder, out *bytes.Buffer, path string, level int) *Error {
	out.WriteByte('[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			out.WriteByte(',')
		}
		if e := canonicalValue(dec, out, path+"[]", level); e != nil {
			return e
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return fieldErr(CodeInvalidType, "metadata", "must be a JSON object")
	}
	out.WriteByte(']')
	return nil
}

func canonicalObject(dec *json.Decoder, out *bytes.Buffer, path string, level int) *Error {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return fieldErr(CodeInvalidType, "metadata", "must be a JSON object")
		}
		field := path + "." + clip(key)
		if seen[key] {
			return fieldErr(CodeInvalidJSON, field, "field given more than once")
		}
		seen[key] = true
		var value bytes.Buffer
		if e := canonicalValue(dec, &value, field, level); e != nil {
			return e
		}
		members = append(members, member{key, value.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fieldErr(CodeInvalidType, "metadata", "must be a JSON object")
	}
	sort.Slice(members, func(i, j int) bool { return members[i].key < members[j].key })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, m.key)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

// pairedSurrogates reports whether every \uD800-\uDFFF escape in raw JSON is a high
// surrogate followed at once by a low one.
func pairedSurrogates(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // another escape: skip its letter (it may be a backslash)
			continue
		}
		r, ok := hex4(raw, i+2)
		switch {
		case !ok || r < 0xD800 || r > 0xDFFF:
		case r >= 0xDC00:
			return false // a low surrogate with no high one before it
		default:
			if i+11 >= len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return false
			}
			if low, ok := hex4(raw, i+8); !ok || low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 6
		}
		i += 5
	}
	return true
}

// hex4 reads four hex digits at raw[at:].
func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(out *bytes.Buffer, s string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	out.Truncate(out.Len() - 1) // Encode's newline
}

// maxPlainZeros is the most zeros a number's plain form may add to its significant digits;
// beyond it the number is written with an exponent.
const maxPlainZeros = 20

// canonicalNumber returns the canonical text of a JSON number literal: equal values, equal
// text. ok is false when s is not a JSON number.
func canonicalNumber(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || !digits(intPart) || !digits(frac) || (hasExp && expText == "") {
		return "", false
	}
	exp := 0
	if hasExp {
		sign := 1
		switch expText[0] {
		case '-':
			sign, expText = -1, expText[1:]
		case '+':
			expText = expText[1:]
		}
		if expText == "" || !digits(expText) {
			return "", false
		}
		expText = strings.TrimLeft(expText, "0")
		if len(expText) > 9 {
			return "", false // beyond any sensible magnitude; refused, not rounded
		}
		for _, c := range expText {
			exp = exp*10 + int(c-'0')
		}
		exp *= sign
	}
	// value = (intPart frac) × 10^(exp - len(frac)), as an integer of digits d and exponent e.
	d := strings.TrimLeft(intPart+frac, "0")
	e := exp - len(frac)
	if d == "" {
		return "0", true
	}
	trimmed := strings.TrimRight(d, "0")
	e += len(d) - len(trimmed)
	d = trimmed
	sign := ""
	if neg {
		sign = "-"
	}
	var plain string
	switch {
	case e >= 0:
		if e <= maxPlainZeros {
			plain = d + strings.Repeat("0", e)
		}
	case -e < len(d):
		plain = d[:len(d)+e] + "." + d[len(d)+e:]
	default:
		if zeros := -e - len(d); zeros <= maxPlainZeros {
			plain = "0." + strings.Repeat("0", zeros) + d
		}
	}
	if plain != "" {
		return sign + plain, true
	}
	return sign + d + "e" + itoa(e), true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
