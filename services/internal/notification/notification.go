// Package notification holds the payment notification a webhook provider sends, its strict
// parsing and validation, its payload hash (the idempotency fingerprint), and the message
// that carries an accepted notification from ingest to accounting through SQS.
//
// Payload (a JSON object, nothing else):
//
//	{"transaction_id": "tx_123", "amount": "12.34", "currency": "USD",
//	 "provider": "acme", "metadata": {"order": "A-1"}}
//
// amount is a JSON number or a decimal string, parsed exactly into the currency's ISO 4217
// minor units (package money); unknown fields, wrong types and bad values are errors that
// name the field.
//
// # Canonical form of metadata
//
// Metadata is the part of the payload hash that a sender may spell in many
// ways. Two metadata values that are equal as JSON values have one canonical form, and two
// that differ never share one:
//
//   - absent, null and the empty object {} are all "no metadata" (canonical form: empty);
//   - objects: keys sorted by their UTF-8 bytes, each key at most once (a repeated key is a
//     400 naming it, as at the top level, rather than a silent last-one-wins);
//   - strings: decoded, then written back with only the escapes JSON requires (\" \\ and
//     control characters; Go also escapes U+2028 and U+2029), never HTML escapes, so "é",
//     "\u00e9" and "\u00E9" are one string; a lone surrogate escape (\uD800-\uDFFF not in a
//     pair) is refused, since it has no character to decode to;
//   - numbers: by exact decimal value, not text or float: 1, 1.0, 1e0 and 10e-1 are "1";
//     100 and 1e2 are "100"; -0 is "0". Written as plain decimals (no exponent, no trailing
//     fractional zeros) unless that would add more than 20 zeros to the significant digits,
//     then as <digits>e<exponent> with no trailing zeros in the digits (1e400, 15e-40);
//   - arrays keep their order; true, false and null are themselves; no whitespace.
//
// MaxMetadataBytes bounds the size of this form (the bytes written, so a "<" counts as one byte,
// not as the six of an HTML escape).
package notification

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/payhook/payhook/services/internal/money"
)

// Limits on the payload's fields.
const (
	// MaxTransactionIDLen is the longest accepted transaction_id, in bytes.
	MaxTransactionIDLen = 128
	// MaxMetadataBytes bounds metadata's compact JSON encoding.
	MaxMetadataBytes = 4096
	// MaxMetadataDepth bounds metadata's nesting (an object of scalars has depth 1).
	MaxMetadataDepth = 5
	// MaxProviderLen is the longest provider name.
	MaxProviderLen = 32
)

// Error codes returned in Error.Code; stable, for clients and metrics.
const (
	CodeInvalidJSON     = "invalid_json"
	CodeUnknownField    = "unknown_field"
	CodeMissingField    = "missing_field"
	CodeInvalidType     = "invalid_type"
	CodeInvalidValue    = "invalid_value"
	CodeInvalidAmount   = "invalid_amount"
	CodeUnknownCurrency = "unknown_currency"
	CodeUnknownProvider = "unknown_provider"
)

// Error is a validation failure that names the offending field.
type Error struct {
	// Code is a stable machine-readable reason (one of the Code* constants).
	Code string `json:"error"`
	// Field is the JSON field at fault, empty when the body as a whole is.
	Field string `json:"field,omitempty"`
	// Message explains the problem to the sender. It never echoes more than a short
	// prefix of the sender's input.
	Message string `json:"message"`
}

// Error implements error: code, field and message.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Field + ": " + e.Message
}

func fieldErr(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Raw is a decoded but not yet validated payload: the shape is right (a JSON object with
// only known fields), the values are unchecked. Ingest decodes, learns the provider to pick
// its signature scheme, verifies the signature, and only then validates.
type Raw struct {
	TransactionID json.RawMessage `json:"transaction_id"`
	Amount        json.RawMessage `json:"amount"`
	Currency      json.RawMessage `json:"currency"`
	Provider      json.RawMessage `json:"provider"`
	Metadata      json.RawMessage `json:"metadata"`
}

// payloadFields are the payload's keys, spelled exactly.
var payloadFields = map[string]uint8{"transaction_id": 1, "amount": 2, "currency": 4, "provider": 8, "metadata": 16}

// Decode parses body as one JSON object with only the payload's fields, each at most once
// and spelled exactly (encoding/json alone would match keys case-insensitively and keep
// the last of duplicates).
func Decode(body []byte) (*Raw, *Error) {
	if !utf8.Valid(body) {
		return nil, fieldErr(CodeInvalidJSON, "", "body is not valid UTF-8")
	}
	if e := checkKeys(body); e != nil {
		return nil, e
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r Raw
	if err := dec.Decode(&r); err != nil {
		return nil, decodeError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fieldErr(CodeInvalidJSON, "", "body must hold exactly one JSON object")
	}
	return &r, nil
}

// decodeError turns the decoder's error on body into the payload error it stands for.
func decodeError(body []byte, err error) *Error {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		return fieldErr(CodeInvalidJSON, "", "body must be a JSON object")
	case errors.As(err, &se), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr(CodeInvalidJSON, "", "body is not valid JSON")
	}
	// What remains is DisallowUnknownFields' error, which encoding/json gives no type:
	// name the key from the body (checkKeys normally reports it first).
	if name, ok := unknownKey(body); ok {
		return fieldErr(CodeUnknownField, clip(name), "unknown field")
	}
	return fieldErr(CodeInvalidJSON, "", "body is not valid JSON")
}

// unknownKey returns the first top-level key of the JSON object in body that names no
// payload field, matched case-insensitively as encoding/json matches them.
func unknownKey(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		key, _ := t.(string)
		known := false
		for f := range payloadFields {
			known = known || strings.EqualFold(f, key)
		}
		if !known {
			return key, true
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return "", false
		}
	}
	return "", false
}

// checkKeys scans the top-level object's keys without decoding anything: unknown
// (including differently cased) and repeated keys are errors naming the key. Malformed
// JSON is left to the decoder.
func checkKeys(body []byte) *Error {
	depth, expectKey := 0, false
	var seen uint8
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{', '[':
			depth++
			expectKey = c == '{' && depth == 1
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		case '"':
			j := i + 1
			escaped := false
			for ; j < len(body) && body[j] != '"'; j++ {
				if body[j] == '\\' {
					escaped = true
					j++
				}
			}
			if j >= len(body) {
				return nil // unterminated string: the decoder reports it
			}
			if depth == 1 && expectKey {
				raw := body[i+1 : j]
				if escaped {
					if k, err := strconv.Unquote(string(body[i : j+1])); err == nil {
						raw = []byte(k)
					}
				}
				bit, ok := payloadFields[string(raw)] // no allocation for a map lookup
				if !ok {
					return fieldErr(CodeUnknownField, clip(string(raw)), "unknown field")
				}
				if seen&bit != 0 {
					return fieldErr(CodeInvalidJSON, string(raw), "field given more than once")
				}
				seen |= bit
				expectKey = false
			}
			i = j
		}
	}
	return nil
}

// ProviderName returns the provider field, checked for shape only.
func (r *Raw) ProviderName() (string, *Error) {
	p, e := requiredString(r.Provider, "provider")
	if e != nil {
		return "", e
	}
	if len(p) > MaxProviderLen || !safeChars(p) {
		return "", fieldErr(CodeUnknownProvider, "provider", "not a configured provider")
	}
	return p, nil
}

// Notification is a validated payment notification.
type Notification struct {
	// Provider is the configured provider that sent it.
	Provider string
	// TransactionID is the provider's id of the payment, unique per provider.
	TransactionID string
	// Amount is the exact amount in the currency's minor units.
	Amount money.Amount
	// Metadata is the metadata object in its canonical form (see the package doc), or nil
	// when there is none (absent, null or {}).
	Metadata json.RawMessage
}

// Validate checks every field and returns the notification.
func (r *Raw) Validate() (Notification, *Error) {
	var n Notification
	var e *Error
	if n.Provider, e = r.ProviderName(); e != nil {
		return n, e
	}
	if n.TransactionID, e = requiredString(r.TransactionID, "transaction_id"); e != nil {
		return n, e
	}
	if len(n.TransactionID) > MaxTransactionIDLen || !safeChars(n.TransactionID) {
		return n, fieldErr(CodeInvalidValue, "transaction_id",
			"must be 1 to %d characters from A-Z a-z 0-9 . _ : -", MaxTransactionIDLen)
	}
	code, e := requiredString(r.Currency, "currency")
	if e != nil {
		return n, e
	}
	cur, ok := money.LookupCurrency(code)
	if !ok {
		return n, fieldErr(CodeUnknownCurrency, "currency", "%q is not an active ISO 4217 currency code", clip(code))
	}
	text, e := amountText(r.Amount)
	if e != nil {
		return n, e
	}
	amt, err := money.ParseAmount(text, cur)
	if err != nil {
		return n, fieldErr(CodeInvalidAmount, "amount", "%s", err.Error())
	}
	n.Amount = amt
	if n.Metadata, e = canonicalMetadata(r.Metadata); e != nil {
		return n, e
	}
	return n, nil
}

// Parse decodes and validates body in one step (for callers without a signature check).
func Parse(body []byte) (Notification, *Error) {
	r, e := Decode(body)
	if e != nil {
		return Notification{}, e
	}
	return r.Validate()
}

// Hash is the payload fingerprint used for idempotency: equal for the same notification
// however its JSON was spelled (key order, whitespace, "12.30" vs 12.3), different when any
// value differs.
func (n Notification) Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "payhook/v1\n%s\n%s\n%d\n%s\n", n.Provider, n.TransactionID, n.Amount.Minor, n.Amount.Currency.Code)
	h.Write(n.Metadata)
	return hex.EncodeToString(h.Sum(nil))
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func requiredString(raw json.RawMessage, field string) (string, *Error) {
	if isNull(raw) {
		return "", fieldErr(CodeMissingField, field, "required")
	}
	if raw[0] != '"' {
		return "", fieldErr(CodeInvalidType, field, "must be a string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fieldErr(CodeInvalidType, field, "must be a string")
	}
	if s == "" {
		return "", fieldErr(CodeMissingField, field, "must not be empty")
	}
	return s, nil
}

// amountText returns the literal text of a JSON number, or the content of a JSON string.
func amountText(raw json.RawMessage) (string, *Error) {
	if isNull(raw) {
		return "", fieldErr(CodeMissingField, "amount", "required")
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fieldErr(CodeInvalidType, "amount", "must be a number or a decimal string")
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), nil
	default:
		return "", fieldErr(CodeInvalidType, "amount", "must be a number or a decimal string")
	}
}

func safeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ValidID reports whether s may be a transaction or event id: 1 to MaxTransactionIDLen
// characters from A-Z a-z 0-9 . _ : - (it becomes part of a DynamoDB key).
func ValidID(s string) bool {
	return s != "" && len(s) <= MaxTransactionIDLen && safeChars(s)
}

// FieldError returns the *Error for a field at fault, for decoders of other payload
// formats (package payload).
func FieldError(code, field, format string, args ...any) *Error {
	return fieldErr(code, field, format, args...)
}

// Clip shortens a sender's input for an error message (at most 40 bytes and "...").
func Clip(s string) string { return clip(s) }
