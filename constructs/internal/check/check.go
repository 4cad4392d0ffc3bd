// Package check holds the small helpers the constructs share to validate
// their props before creating any resource.
package check

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Millis returns a duration in milliseconds, fractions included, without
// the whole-number check awscdk.Duration applies by default.
func Millis(d awscdk.Duration) float64 {
	return *d.ToMilliseconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
}

// Seconds returns a duration in seconds, fractions included.
func Seconds(d awscdk.Duration) float64 { return Millis(d) / 1000 }

// Human renders a duration for an error message, in seconds: "90 s".
func Human(d awscdk.Duration) string { return fmt.Sprintf("%g s", Seconds(d)) }

// RemovalPolicy accepts the removal policies that log groups and queues
// support: empty (the construct's default), DESTROY, RETAIN and
// RETAIN_ON_UPDATE_OR_DELETE. The error reads well after a field name.
func RemovalPolicy(rp awscdk.RemovalPolicy) error {
	switch rp {
	case "", awscdk.RemovalPolicy_DESTROY, awscdk.RemovalPolicy_RETAIN, awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE:
		return nil
	}
	return fmt.Errorf("%q must be DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE", string(rp))
}

// Unresolved reports whether s is a CDK token, whose value is known only at
// deploy time and so cannot be checked at synthesis.
func Unresolved(s *string) bool {
	return s != nil && *awscdk.Token_IsUnresolved(s)
}

// Whole reports whether f is a whole number.
func Whole(f float64) bool { return f == float64(int64(f)) }

// Prefixed splits err (an errors.Join of problems, or a single error) and
// prefixes each problem with prefix, so a nested props struct's problems name
// their full path ("Consumer.MemorySize ...").
func Prefixed(prefix string, err error) []error {
	if err == nil {
		return nil
	}
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else {
		parts = []error{err}
	}
	out := make([]error, 0, len(parts))
	for _, e := range parts {
		out = append(out, fmt.Errorf("%s%w", prefix, e))
	}
	return out
}

// Chars reports whether s has min..max characters, each an ASCII letter, a digit or one of
// extra: the shape of most AWS resource names.
func Chars(s string, min, max int, extra string) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(extra, r)
		if !ok {
			return false
		}
	}
	return true
}
