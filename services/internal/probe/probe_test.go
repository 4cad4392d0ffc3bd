package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answering serves every request with the status, content type and body given.
func answering(t *testing.T, status int, contentType, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return NewClient(&Target{Endpoint: srv.URL})
}

func TestResponseKeepsAnAnswerThatIsNotJSON(t *testing.T) {
	page := "<html><body><h1>403 Forbidden</h1></body></html>"
	r, err := answering(t, http.StatusForbidden, "text/html", page).Send(context.Background(), Provider{Name: "acme"}, []byte("{}"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Nil(t, r.Body)
	assert.Equal(t, page, string(r.Raw))
	err = r.Want(http.StatusOK)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want HTTP 200, got HTTP 403")
	assert.Contains(t, err.Error(), "403 Forbidden</h1>", "the raw body is in the error")
	assert.NotContains(t, err.Error(), "map[]")
}

func TestResponseEmptyAndLongAnswers(t *testing.T) {
	r, err := answering(t, http.StatusForbidden, "application/json", "").Send(context.Background(), Provider{Name: "acme"}, []byte("{}"))
	require.NoError(t, err)
	assert.EqualError(t, r.Want(http.StatusOK), "want HTTP 200, got HTTP 403, empty body")

	r, err = answering(t, http.StatusForbidden, "application/json", "{}").Send(context.Background(), Provider{Name: "acme"}, []byte("{}"))
	require.NoError(t, err)
	assert.EqualError(t, r.Want(http.StatusOK), `want HTTP 200, got HTTP 403, body "{}"`)

	long := strings.Repeat("x", 2000)
	r, err = answering(t, http.StatusBadGateway, "text/plain", long).Send(context.Background(), Provider{Name: "acme"}, []byte("{}"))
	require.NoError(t, err)
	assert.Len(t, r.Raw, RawLimit)
	assert.True(t, r.Truncated)
	assert.Equal(t, `HTTP 502, body "`+long[:RawLimit]+`"...`, r.String())
}

func TestResponseDecodesPayhooksAnswer(t *testing.T) {
	r, err := answering(t, http.StatusBadRequest, "application/json", `{"error":"invalid_amount","field":"amount"}`).
		Send(context.Background(), Provider{Name: "acme"}, []byte("{}"))
	require.NoError(t, err)
	assert.NoError(t, r.Want(http.StatusBadRequest))
	assert.Equal(t, "amount", r.Body["field"])
	assert.False(t, r.Truncated)
}
