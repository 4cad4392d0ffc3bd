package apigw

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(10, 20)
	n := 0
	for l.AllowN(now, 1) {
		n++
	}
	assert.Equal(t, 20, n, "a full bucket: the burst")
	assert.False(t, l.AllowN(now.Add(50*time.Millisecond), 1), "half a token")
	assert.True(t, l.AllowN(now.Add(100*time.Millisecond), 1), "one token after 100 ms at 10/s")
	assert.False(t, l.AllowN(now.Add(100*time.Millisecond), 1))
	n = 0
	for l.AllowN(now.Add(time.Hour), 1) {
		n++
	}
	assert.Equal(t, 20, n, "refilled up to the burst, not beyond")
}

func TestLimiterDefaults(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	count := func(l interface{ AllowN(time.Time, int) bool }, at time.Time) int {
		n := 0
		for n < 100 && l.AllowN(at, 1) {
			n++
		}
		return n
	}
	assert.Equal(t, 5, count(newLimiter(5, 0), now), "no burst: the rate")
	assert.Equal(t, 1, count(newLimiter(0.5, 0), now), "no burst, rate under 1: one")
	l := newLimiter(0, 3)
	assert.Equal(t, 3, count(l, now), "no rate: the burst")
	assert.Equal(t, 0, count(l, now.Add(time.Hour)), "no rate: never refilled")
	assert.Equal(t, 0, count(newLimiter(0, 0), now), "neither: nothing passes")
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
