package envs

import (
	"fmt"

	"github.com/payhook/payhook/internal/contract"
)

// checkFormat checks what a provider posts against its scheme and its format's settings.
func checkFormat(c *checker, at fieldPath, p Provider) {
	format := p.Format
	if format == "" {
		format = FormatPayhook
	}
	if p.Stripe != nil && format != FormatStripe {
		c.add(at.child("stripe"), fmt.Sprintf("only for format stripe (this provider's format is %s)", format))
	}
	if p.Mapping != nil && format != FormatStandardWebhooks {
		c.add(at.child("mapping"), fmt.Sprintf("only for format standard-webhooks (this provider's format is %s)", format))
	}
	switch format {
	case FormatStripe:
		if p.Scheme != SchemeStripe {
			c.add(at.child("format"), fmt.Sprintf("format stripe requires scheme stripe (Stripe signs its events with Stripe-Signature), got %s", p.Scheme))
		}
	case FormatStandardWebhooks:
		if p.Scheme != SchemeStandardWebhooks {
			c.add(at.child("format"), fmt.Sprintf("format standard-webhooks requires scheme standard-webhooks (its webhook-id header is the event id), got %s", p.Scheme))
		}
		if p.Mapping == nil {
			c.add(at.child("format"), "format standard-webhooks requires a mapping: where the envelope holds the payment and which event types move money")
			return
		}
		m := contract.Mapping{Credit: p.Mapping.Credit, Debit: p.Mapping.Debit, Ignored: p.Mapping.Ignored}
		if t, first, second := m.Overlap(); t != "" {
			c.add(at.child("mapping"), fmt.Sprintf("event type %q is listed in both %s and %s", t, first, second))
		}
	}
}
