package main

import (
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/payhook/payhook/services/internal/notification"
	"github.com/payhook/payhook/services/internal/signature"
)

// routeOf is the provider whose own path a request's resource is ("/<path>/<provider>"), or
// "" for the API-key route ("/<path>").
func routeOf(resource string) string {
	parts := strings.Split(strings.Trim(resource, "/"), "/")
	if len(parts) != 2 || strings.ContainsAny(parts[1], "{}") {
		return ""
	}
	return parts[1]
}

// keyHolds refuses a request made with an API key that is not its provider's: each keyed
// provider has a key of its own, so a key is its provider's second factor, and one holder
// can neither post as another nor spend its quota. Keyless requests (a provider's own path
// without a key) carry none.
func (h *Handler) keyHolds(req events.APIGatewayProxyRequest, provider string) *rejection {
	id := req.RequestContext.Identity.APIKeyID
	if id == "" || len(h.APIKeys) == 0 || h.APIKeys[provider] == id {
		return nil
	}
	return reject(http.StatusForbidden, response{Error: "api_key_mismatch", Field: "x-api-key", Message: "the API key is not this provider's"})
}

// routable checks the provider whose own path the request came to: configured, and signed
// (a keyless path has no API key, so an unsigned provider would be open to anyone).
func (h *Handler) routable(provider string) *rejection {
	scheme, ok := h.Providers[provider]
	if !ok {
		return reject(http.StatusNotFound, response{Error: notification.CodeUnknownProvider, Field: "provider",
			Message: "not a configured provider"})
	}
	if scheme == signature.None {
		return reject(http.StatusUnauthorized, response{Error: "signature_required", Field: "provider",
			Message: "this provider does not sign its requests: post to the API-key route instead"})
	}
	return nil
}
