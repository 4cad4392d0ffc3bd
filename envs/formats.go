package envs

import (
	"net/mail"
	"regexp"
)

// The formats a `schema` tag may name.
const (
	formatEmail  = "email"
	formatRegion = "aws-region"
)

// emailPattern is deliberately simple: one @, no spaces, a dot in the domain;
// net/mail then checks the address itself.
const emailPattern = `^[^@\s]+@[^@\s]+\.[^@\s]+$`

// isEmail reports whether s is a bare e-mail address such as a@example.com.
func isEmail(s string) bool {
	if !regexp.MustCompile(emailPattern).MatchString(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}
