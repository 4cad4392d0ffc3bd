package envs

import (
	"fmt"
	"net"

	"github.com/payhook/payhook/internal/contract"
)

// checkPath checks a provider's own path: keyless only with a signature, its settings only
// when it has one, its source addresses CIDR blocks.
func checkPath(c *checker, at fieldPath, p Provider) {
	if p.Keyless && p.Scheme == SchemeNone {
		c.add(at.child("keyless"), "a keyless provider needs a signature scheme: without an API key, the signature is all that authenticates it")
	}
	if !p.OwnPath() {
		for _, f := range []struct {
			name string
			set  bool
		}{{"throttle_rate", p.ThrottleRate != 0}, {"throttle_burst", p.ThrottleBurst != 0}, {"waf_rate_limit", p.WAFRateLimit != 0}, {"source_ips", len(p.SourceIPs) > 0}} {
			if f.set {
				c.add(at.child(f.name), "only for a provider with a path of its own (keyless: true, or a format other than payhook)")
			}
		}
	}
	for i, cidr := range p.SourceIPs {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			c.add(at.child("source_ips").index(i), fmt.Sprintf("must be a CIDR block (203.0.113.0/24, 2001:db8::/32), got %q", cidr))
		}
	}
}

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
