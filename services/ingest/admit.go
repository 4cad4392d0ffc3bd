package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/payhook/payhook/services/internal/notification"
)

// rejection is a request refused: the HTTP status and the body that says why. Every check
// returns one, or nil to let the request go on.
type rejection struct {
	status int
	body   response
}

// Error names the status and the error code.
func (r *rejection) Error() string { return fmt.Sprintf("%d %s", r.status, r.body.Error) }

func reject(status int, body response) *rejection { return &rejection{status, body} }

// unavailable refuses a request because a dependency failed: 503, so the sender retries.
func unavailable(dep string) *rejection {
	return reject(http.StatusServiceUnavailable, response{Error: "unavailable",
		Message: "a dependency (" + dep + ") failed; retry later"})
}

// invalid refuses a request whose notification does not hold: 400, naming the field.
func invalid(e *notification.Error) *rejection { return reject(http.StatusBadRequest, errResponse(e)) }

func errResponse(e *notification.Error) response {
	return response{Error: e.Code, Field: e.Field, Message: e.Message}
}

// admitKeyed admits a notification posted to the API-key route: every check that needs no
// storage (size, media type, shape, provider and its key, signature, field validation).
func (h *Handler) admitKeyed(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest) (notification.Notification, []any, *rejection) {
	var none notification.Notification
	headers, body, rej := h.read(req)
	if rej != nil {
		return none, nil, rej
	}
	raw, provider, rej := h.provided(body)
	if rej != nil {
		return none, nil, rej
	}
	attrs := []any{"provider", provider}
	if rej := h.keyHolds(req, provider); rej != nil {
		return none, attrs, rej
	}
	if _, events := h.Decoders[provider]; events {
		return none, nil, reject(http.StatusBadRequest, response{Error: notification.CodeInvalidValue, Field: "provider",
			Message: "this provider posts events: post them to this URL followed by /" + provider})
	}
	if rej := h.verify(ctx, log, h.Providers[provider], provider, headers, body); rej != nil {
		return none, attrs, rej
	}
	return validated(raw, attrs)
}

// admitOwnPath admits a notification posted to its provider's own path (no API key there,
// so nothing of the body is read before its signature holds): size, media type, signature,
// shape, the provider matching the path, field validation.
func (h *Handler) admitOwnPath(ctx context.Context, log *slog.Logger, req events.APIGatewayProxyRequest, route string) (notification.Notification, []any, *rejection) {
	var none notification.Notification
	attrs := []any{"provider", route}
	headers, body, rej := h.read(req)
	if rej != nil {
		return none, nil, rej
	}
	if rej := h.verify(ctx, log, h.Providers[route], route, headers, body); rej != nil {
		return none, attrs, rej
	}
	raw, provider, rej := h.provided(body)
	if rej != nil {
		return none, nil, rej
	}
	if provider != route {
		return none, nil, reject(http.StatusBadRequest, response{Error: notification.CodeInvalidValue, Field: "provider",
			Message: "differs from the provider in the URL"})
	}
	return validated(raw, attrs)
}

// provided decodes a notification's body and names its provider, which must be configured.
func (h *Handler) provided(body []byte) (*notification.Raw, string, *rejection) {
	raw, verr := notification.Decode(body)
	if verr != nil {
		return nil, "", invalid(verr)
	}
	provider, verr := raw.ProviderName()
	if verr != nil {
		return nil, "", invalid(verr)
	}
	if _, ok := h.Providers[provider]; !ok {
		return nil, "", reject(http.StatusBadRequest, response{Error: notification.CodeUnknownProvider, Field: "provider",
			Message: "not a configured provider"})
	}
	return raw, provider, nil
}

// validated is raw's notification once its fields hold, with the log attributes naming it.
func validated(raw *notification.Raw, attrs []any) (notification.Notification, []any, *rejection) {
	n, verr := raw.Validate()
	if verr != nil {
		return notification.Notification{}, attrs, invalid(verr)
	}
	return n, append(attrs, "transaction_id", n.TransactionID), nil
}

// read returns the headers and the body of a request that is within the size limit and
// JSON, or why it is refused.
func (h *Handler) read(req events.APIGatewayProxyRequest) (http.Header, []byte, *rejection) {
	headers := headerOf(req)
	body, rej := h.body(req)
	if rej != nil {
		return nil, nil, rej
	}
	if !isJSON(headers.Get("Content-Type")) {
		return nil, nil, reject(http.StatusUnsupportedMediaType, response{Error: "unsupported_media_type", Field: "Content-Type",
			Message: "Content-Type must be application/json"})
	}
	return headers, body, nil
}

// body returns the raw body, base64-decoded when API Gateway flagged it, within the limit.
func (h *Handler) body(req events.APIGatewayProxyRequest) ([]byte, *rejection) {
	tooLarge := reject(http.StatusRequestEntityTooLarge, response{Error: "payload_too_large",
		Message: fmt.Sprintf("body larger than %d bytes", h.MaxBodyBytes)})
	if !req.IsBase64Encoded {
		if len(req.Body) > h.MaxBodyBytes {
			return nil, tooLarge
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > h.MaxBodyBytes+2 {
		return nil, tooLarge
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, reject(http.StatusBadRequest, response{Error: notification.CodeInvalidJSON, Message: "body is flagged base64 but does not decode"})
	}
	if len(b) > h.MaxBodyBytes {
		return nil, tooLarge
	}
	return b, nil
}
