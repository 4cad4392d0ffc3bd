package check

import (
	"errors"
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
