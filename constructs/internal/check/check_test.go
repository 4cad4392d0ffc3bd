package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/stretchr/testify/assert"
)

func TestPrefixedSplitsJoinedErrors(t *testing.T) {
	// GIVEN two joined problems WHEN prefixed THEN each carries the prefix
	got := Prefixed("Consumer.", errors.Join(errors.New("MemorySize 64 bad"), errors.New("Timeout 0 s bad")))
	assert.Equal(t, "Consumer.MemorySize 64 bad\nConsumer.Timeout 0 s bad", errors.Join(got...).Error())
	// AND a single error, or none, works too
	assert.Equal(t, "X.y", Prefixed("X.", errors.New("y"))[0].Error())
	assert.Nil(t, Prefixed("X.", nil))
}

func TestRemovalPolicy(t *testing.T) {
	for _, ok := range []awscdk.RemovalPolicy{"", awscdk.RemovalPolicy_DESTROY, awscdk.RemovalPolicy_RETAIN, awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE} {
		assert.NoError(t, RemovalPolicy(ok), ok)
	}
	assert.ErrorContains(t, RemovalPolicy(awscdk.RemovalPolicy_SNAPSHOT), "SNAPSHOT")
}

func TestWhole(t *testing.T) {
	assert.True(t, Whole(3))
	assert.False(t, Whole(2.5))
}

func TestChars(t *testing.T) {
	for _, tc := range []struct {
		s        string
		min, max int
		extra    string
		want     bool
	}{
		{"orders-dlq_1", 1, 80, "-_", true},
		{"", 1, 80, "-_", false},
		{"q.fifo", 1, 80, "-_", false},
		{"a b", 1, 80, "-_", false},
		{"é", 1, 80, "-_", false},
		{"webhooks.v1~x", 1, 255, "._-~", true},
		{strings.Repeat("a", 65), 1, 64, "-_", false},
		{strings.Repeat("a", 64), 1, 64, "-_", true},
	} {
		if got := Chars(tc.s, tc.min, tc.max, tc.extra); got != tc.want {
			t.Errorf("Chars(%q, %d, %d, %q) = %v, want %v", tc.s, tc.min, tc.max, tc.extra, got, tc.want)
		}
	}
}
