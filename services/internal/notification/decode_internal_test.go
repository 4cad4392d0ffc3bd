package notification

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decoderError is what Decode's decoder returns for body, checkKeys aside.
func decoderError(t *testing.T, body string) error {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	var r Raw
	err := dec.Decode(&r)
	require.Error(t, err, body)
	return err
}

// decodeError maps each of the decoder's errors by type, not by its text, to the outcome
// Decode gives.
func TestDecodeErrorByType(t *testing.T) {
	cases := []struct {
		body, code, field, message string
	}{
		{`[]`, CodeInvalidJSON, "", "body must be a JSON object"},
		{`"s"`, CodeInvalidJSON, "", "body must be a JSON object"},
		{`{"amount":1,}`, CodeInvalidJSON, "", "body is not valid JSON"},
		{`{"amount":`, CodeInvalidJSON, "", "body is not valid JSON"},
		{``, CodeInvalidJSON, "", "body is not valid JSON"},
		{`{"amount":1,"x":2}`, CodeUnknownField, "x", "unknown field"},
		{`{"AMOUNT":1,"metadata":{"y":1},"Y":2}`, CodeUnknownField, "Y", "unknown field"},
	}
	for _, c := range cases {
		err := decoderError(t, c.body)
		e := decodeError([]byte(c.body), err)
		require.NotNil(t, e, c.body)
		assert.Equal(t, c.code, e.Code, c.body)
		assert.Equal(t, c.field, e.Field, c.body)
		assert.Equal(t, c.message, e.Message, c.body)
		if c.code == CodeUnknownField {
			assert.Contains(t, err.Error(), strconv.Quote(c.field), "the key the decoder names")
		}
	}
}

func TestUnknownKey(t *testing.T) {
	k, ok := unknownKey([]byte(`{"transaction_id":"t","Provider":"p","metadata":{"z":1},"extra":[1]}`))
	assert.True(t, ok)
	assert.Equal(t, "extra", k)
	_, ok = unknownKey([]byte(`{"transaction_id":"t","amount":1}`))
	assert.False(t, ok)
	_, ok = unknownKey([]byte(`[{"x":1}]`))
	assert.False(t, ok)
}
