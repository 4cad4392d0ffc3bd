package sqspoll

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBatchItemFailures(t *testing.T) {
	msgs := []sqstypes.Message{{MessageId: aws.String("a")}, {MessageId: aws.String("b")}}
	p := &Poller{Source: EventSource{ReportBatchItemFailures: true}}
	for _, ok := range []string{``, `null`, `{}`, `{"batchItemFailures":[]}`, `{"batchItemFailures":null}`} {
		f, err := p.failures([]byte(ok), msgs)
		require.NoError(t, err, ok)
		assert.Empty(t, f, ok)
	}
	f, err := p.failures([]byte(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`), msgs)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"b": true}, f)
	for _, bad := range []string{`{"batchItemFailures":[{"itemIdentifier":"zz"}]}`, `{"batchItemFailures":[{"itemIdentifier":""}]}`, `[1]`} {
		_, err := p.failures([]byte(bad), msgs)
		assert.Error(t, err, bad)
	}
	p.Source.ReportBatchItemFailures = false
	f, err = p.failures([]byte(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`), msgs)
	require.NoError(t, err)
	assert.Empty(t, f, "without ReportBatchItemFailures a successful invocation deletes everything")
}
