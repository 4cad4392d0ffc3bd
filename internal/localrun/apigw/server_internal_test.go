package apigw

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newTokenBucket(10, 20, now)
	n := 0
	for b.allow(now) {
		n++
	}
	assert.Equal(t, 20, n, "burst")
	assert.False(t, b.allow(now.Add(50*time.Millisecond)), "half a token")
	assert.True(t, b.allow(now.Add(100*time.Millisecond)), "one token after 100 ms at 10/s")
	assert.False(t, b.allow(now.Add(100*time.Millisecond)))
}

func TestMatchRoute(t *testing.T) {
	routes := []Route{
		{Path: "/webhooks", Method: "POST", Function: "a"},
		{Path: "/items/{id}", Method: "GET", Function: "b"},
		{Path: "/items/special", Method: "GET", Function: "c"},
		{Path: "/files/{proxy+}", Method: "ANY", Function: "d"},
		{Path: "/", Method: "GET", Function: "e"},
	}
	cases := []struct {
		method, path, fn string
		params           map[string]string
	}{
		{"POST", "/webhooks", "a", map[string]string{}},
		{"GET", "/items/42", "b", map[string]string{"id": "42"}},
		{"GET", "/items/special", "c", map[string]string{}},
		{"PUT", "/files/a/b/c", "d", map[string]string{"proxy": "a/b/c"}},
		{"GET", "/", "e", map[string]string{}},
		{"GET", "/webhooks", "", nil},
		{"POST", "/webhooks/x", "", nil},
		{"GET", "/files", "", nil},
	}
	for _, c := range cases {
		r, params, ok := matchRoute(routes, c.method, c.path)
		if c.fn == "" {
			assert.False(t, ok, "%s %s", c.method, c.path)
			continue
		}
		require.True(t, ok, "%s %s", c.method, c.path)
		assert.Equal(t, c.fn, r.Function, "%s %s", c.method, c.path)
		assert.Equal(t, c.params, params)
	}
}

func TestBinaryBody(t *testing.T) {
	assert.False(t, binaryBody(nil, "application/json; charset=utf-8", []byte("{}")))
	assert.False(t, binaryBody(nil, "text/plain", []byte("x")))
	assert.False(t, binaryBody(nil, "application/cloudevents+json", []byte("{}")))
	assert.False(t, binaryBody(nil, "", []byte("x")))
	assert.True(t, binaryBody(nil, "application/octet-stream", []byte("x")))
	assert.True(t, binaryBody(nil, "", []byte{0xff}))
	assert.True(t, binaryBody([]string{"application/json"}, "application/json", []byte("{}")), "binaryMediaTypes decide")
	assert.False(t, binaryBody([]string{"image/*"}, "application/octet-stream", []byte{0xff}))
	assert.True(t, binaryBody([]string{"*/*"}, "text/plain", []byte("x")))
}

func TestChunkedLength(t *testing.T) {
	n, ok := chunkedLength([]byte("2\r\n{}\r\n0\r\n\r\nNEXT"))
	assert.True(t, ok)
	assert.Equal(t, 12, n)
	n, ok = chunkedLength([]byte("1;ext=1\r\na\r\n0\r\nTrailer: x\r\n\r\n"))
	assert.True(t, ok)
	assert.Equal(t, 29, n)
	_, ok = chunkedLength([]byte("5\r\nab"))
	assert.False(t, ok)
}
