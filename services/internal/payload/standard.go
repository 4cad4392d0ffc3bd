package payload

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/payhook/payhook/internal/contract"
	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/notification"
)

// HeaderWebhookID is the Standard Webhooks header holding the message id, the event's
// deduplication key (the signature covers it).
const HeaderWebhookID = "webhook-id"

// mapping reads a Standard Webhooks envelope ({"type":...,"timestamp":...,"data":{...}})
// through the provider's contract.Mapping: the type picks credit, debit or ignored, and
// JSON pointers into the envelope give the transaction, amount, currency and livemode.
type mapping struct {
	contract.Mapping
}

func (m mapping) decode(body []byte, headers http.Header) (Event, *notification.Error) {
	doc, err := document(body)
	if err != nil {
		return Event{}, err
	}
	e := Event{ID: headers.Get(HeaderWebhookID)}
	if err := checkID(e.ID, HeaderWebhookID); err != nil {
		return Event{}, err
	}
	t, ok := doc["type"].(string)
	if !ok {
		if _, present := doc["type"]; present {
			return Event{}, invalid(notification.CodeInvalidType, "type", "must be a string")
		}
		return Event{}, invalid(notification.CodeMissingField, "type", "required")
	}
	e.Type = t
	if err := checkType(t); err != nil {
		return Event{}, err
	}
	if m.Livemode != "" {
		v, err := lookup(doc, m.Livemode, "livemode")
		if err != nil {
			return Event{}, err
		}
		live, ok := v.(bool)
		if !ok {
			return Event{}, invalid(notification.CodeInvalidType, m.Livemode, "must be true or false")
		}
		e.Livemode = &live
	}
	switch {
	case slices.Contains(m.Credit, t):
		e.Kind = Credit
	case slices.Contains(m.Debit, t):
		e.Kind, e.Cumulative = Debit, m.DebitAmount == contract.DebitCumulative
	default:
		e.Kind, e.Unmapped = Ignored, !slices.Contains(m.Ignored, t)
		return e, nil
	}
	if e.TransactionID, err = m.transactionID(doc); err != nil {
		return Event{}, err
	}
	if e.Amount, err = m.amount(doc); err != nil {
		return Event{}, err
	}
	return e, nil
}

func (m mapping) transactionID(doc any) (string, *notification.Error) {
	v, err := lookup(doc, m.TransactionID, "transaction_id")
	if err != nil {
		return "", err
	}
	var id string
	switch x := v.(type) {
	case string:
		id = x
	case json.Number:
		id = x.String()
	default:
		return "", invalid(notification.CodeInvalidType, m.TransactionID, "must be a string")
	}
	return id, checkID(id, m.TransactionID)
}

func (m mapping) amount(doc any) (money.Amount, *notification.Error) {
	cv, err := lookup(doc, m.Currency, "currency")
	if err != nil {
		return money.Amount{}, err
	}
	code, ok := cv.(string)
	if !ok {
		return money.Amount{}, invalid(notification.CodeInvalidType, m.Currency, "must be a string")
	}
	cur, found := money.LookupCurrencyEitherCase(code)
	if !found {
		return money.Amount{}, invalid(notification.CodeUnknownCurrency, m.Currency, "%q is not an active ISO 4217 currency code", notification.Clip(code))
	}
	av, err := lookup(doc, m.Amount, "amount")
	if err != nil {
		return money.Amount{}, err
	}
	var text string
	switch x := av.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		return money.Amount{}, invalid(notification.CodeInvalidType, m.Amount, "must be a number or a numeric string")
	}
	if m.AmountUnit == contract.UnitMinor {
		n, err := integer(text, m.Amount)
		if err != nil {
			return money.Amount{}, err
		}
		if n < 1 || n > money.MaxMinor {
			return money.Amount{}, invalid(notification.CodeInvalidAmount, m.Amount, "must be 1 to %d minor units", money.MaxMinor)
		}
		return money.Amount{Minor: n, Currency: cur}, nil
	}
	amt, perr := money.ParseAmount(text, cur)
	if perr != nil {
		return money.Amount{}, invalid(notification.CodeInvalidAmount, m.Amount, "%s", perr.Error())
	}
	return amt, nil
}

// document decodes an envelope: one JSON object, numbers exact (strictObject).
func document(body []byte) (map[string]any, *notification.Error) {
	var doc map[string]any
	if err := strictObject(body, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// errAbsent is lookup's "no such member".
var errAbsent = errors.New("absent")

// lookup resolves an RFC 6901 pointer; a missing value is a missing-field error naming
// the pointer (and what the mapping calls it).
func lookup(doc any, pointer, name string) (any, *notification.Error) {
	v, err := resolve(doc, pointer)
	if err != nil || v == nil {
		return nil, invalid(notification.CodeMissingField, pointer, "required (the mapping's %s)", name)
	}
	return v, nil
}

func resolve(doc any, pointer string) (any, error) {
	if pointer == "" {
		return doc, nil
	}
	cur := doc
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, errAbsent
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || (len(tok) > 1 && tok[0] == '0') {
				return nil, errAbsent
			}
			cur = c[i]
		default:
			return nil, errAbsent
		}
	}
	return cur, nil
}
