package tests

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The operator tools (services/tools/failures and totals) run against the local stack as an
// operator runs them, and their -json output is checked against what was sent.

// opsTotal is one row of `totals -json`.
type opsTotal struct {
	Provider   string `json:"provider"`
	Currency   string `json:"currency"`
	Exponent   *int   `json:"exponent"`
	TotalMinor int64  `json:"total_minor"`
	TxnCount   int64  `json:"txn_count"`
	DebitMinor int64  `json:"debit_minor"`
	NetMinor   int64  `json:"net_minor"`
	Credited   string `json:"credited"`
}

// totalsTool runs `totals -json` for provider on day and returns its rows by currency.
func totalsTool(t *testing.T, state, provider, day string) map[string]opsTotal {
	t.Helper()
	out := runGo(t, "run", "./services/tools/totals", "-env", "local", "-state", state, "-json", "-provider", provider, "-day", day)
	var r struct {
		Day       string     `json:"day"`
		Providers []string   `json:"providers"`
		Totals    []opsTotal `json:"totals"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), "totals -json:\n%s", out)
	require.Equal(t, day, r.Day)
	require.Equal(t, []string{provider}, r.Providers)
	rows := map[string]opsTotal{}
	for _, x := range r.Totals {
		require.Equal(t, provider, x.Provider)
		rows[x.Currency] = x
	}
	return rows
}

// TestLocalTotalsToolShowsWhatWasAccounted: notifications accounted for a provider move the
// totals tool's credited amount and count by exactly what was sent, formatted with each
// currency's exponent, and its figures are the table's.
func TestLocalTotalsToolShowsWhatWasAccounted(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	state := writeState(t, l)
	p := s.provider("acme")
	day := time.Now().UTC().Format("2006-01-02")
	before := totalsTool(t, state, p.Name, day)

	run := runID()
	sent := []struct{ id, amount, currency string }{
		{"ops-" + run + "-1", "12.34", "CHF"}, {"ops-" + run + "-2", "0.66", "CHF"}, {"ops-" + run + "-3", "1.005", "BHD"},
	}
	for _, n := range sent {
		code, ans := s.post(p, body(p.Name, n.id, n.amount, n.currency))
		require.Equal(t, 200, code, "%s: %v", n.id, ans)
	}
	for _, n := range sent {
		waitStatus(t, l, p.Name, n.id, "accounted", 30*time.Second)
	}
	if now := time.Now().UTC().Format("2006-01-02"); now != day {
		t.Skipf("the UTC day changed during the test (%s → %s)", day, now)
	}
	after := totalsTool(t, state, p.Name, day)

	chf, bhd := after["CHF"], after["BHD"]
	assert.Equal(t, int64(1300), chf.TotalMinor-before["CHF"].TotalMinor, "12.34 + 0.66 CHF")
	assert.Equal(t, int64(2), chf.TxnCount-before["CHF"].TxnCount)
	assert.Equal(t, int64(1005), bhd.TotalMinor-before["BHD"].TotalMinor, "1.005 BHD, three decimals")
	assert.Equal(t, int64(1), bhd.TxnCount-before["BHD"].TxnCount)
	require.NotNil(t, chf.Exponent)
	require.NotNil(t, bhd.Exponent)
	assert.Equal(t, []int{2, 3}, []int{*chf.Exponent, *bhd.Exponent})
	assert.Equal(t, formatMinor(chf.TotalMinor, 2), chf.Credited)
	assert.Equal(t, formatMinor(bhd.TotalMinor, 3), bhd.Credited)
	assert.Equal(t, chf.TotalMinor-chf.DebitMinor, chf.NetMinor)

	for cur, row := range after {
		minor, count := total(t, l, p.Name, cur)
		assert.Equal(t, [2]int64{minor, count}, [2]int64{row.TotalMinor, row.TxnCount}, "%s: the tool shows the table's total", cur)
	}
	table := runGo(t, "run", "./services/tools/totals", "-env", "local", "-state", state, "-provider", p.Name, "-day", day)
	assert.Regexp(t, `acme\s+CHF\s+`+strings.ReplaceAll(chf.Credited, ".", `\.`)+`\s+`+strconv.FormatInt(chf.TotalMinor, 10)+`\s`, table)
}

// formatMinor writes minor units with exp fraction digits (non-negative amounts), for the
// expectation: independent of the money package the tool uses.
func formatMinor(minor int64, exp int) string {
	s := strconv.FormatInt(minor, 10)
	for len(s) <= exp {
		s = "0" + s
	}
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// opsFailure is one entry of `failures -json`.
type opsFailure struct {
	Key              string `json:"key"`
	Provider         string `json:"provider"`
	TransactionID    string `json:"transaction_id"`
	AmountMinor      int64  `json:"amount_minor"`
	Currency         string `json:"currency"`
	Status           string `json:"status"`
	Reason           string `json:"reason"`
	ReceivedAt       string `json:"received_at"`
	ReceiveCount     int    `json:"receive_count"`
	ProcessingErrors int    `json:"processing_errors"`
	Replayable       bool   `json:"replayable"`
	Replayed         bool   `json:"replayed"`
}

// failuresTool runs `failures -json` with extra flags and returns its entries.
func failuresTool(t *testing.T, state string, flags ...string) []opsFailure {
	t.Helper()
	out := runGo(t, append([]string{"run", "./services/tools/failures", "-env", "local", "-state", state, "-json"}, flags...)...)
	var r struct {
		Count    int          `json:"count"`
		Failures []opsFailure `json:"failures"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), "failures -json:\n%s", out)
	require.Equal(t, len(r.Failures), r.Count)
	return r.Failures
}

func findFailure(list []opsFailure, match func(opsFailure) bool) *opsFailure {
	for i := range list {
		if match(list[i]) {
			return &list[i]
		}
	}
	return nil
}

// TestLocalFailuresToolShowsWhy makes accounting fail for real (as
// TestLocalPoisonToDLQAndReplay does: the daily total is one step from overflow), so the
// notification dies in the DLQ; the failures tool lists it with its reason, and no longer
// once the cause is removed and it is replayed.
func TestLocalFailuresToolShowsWhy(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	ctx := context.Background()
	st, state := l.State(), writeState(t, l)
	day := time.Now().UTC().Format("2006-01-02")
	totalKey := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "TOTAL#legacy#" + day},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "CUR#CZK"},
	}
	_, err := l.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]ddbtypes.AttributeValue{
		"pk": totalKey["pk"], "sk": totalKey["sk"],
		"total_minor": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(math.MaxInt64-10, 10)},
		"txn_count":   &ddbtypes.AttributeValueMemberN{Value: "1"}}})
	require.NoError(t, err)
	removeCause := func() {
		_, err := l.Clients.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.Table), Key: totalKey})
		require.NoError(t, err)
	}
	t.Cleanup(removeCause)

	id := "ops-poison-" + runID()
	code, ans := s.post(s.provider("legacy"), body("legacy", id, "5.00", "CZK"))
	require.Equal(t, 200, code, "%v", ans)
	waitStatus(t, l, "legacy", id, "failed", 90*time.Second)

	f := findFailure(failuresTool(t, state), func(f opsFailure) bool { return f.TransactionID == id })
	require.NotNil(t, f, "failures lists %s", id)
	assert.Equal(t, "TXN#legacy#"+id, f.Key)
	assert.Equal(t, "legacy", f.Provider)
	assert.Equal(t, [2]any{int64(500), "CZK"}, [2]any{f.AmountMinor, f.Currency})
	assert.Equal(t, "failed", f.Status)
	assert.Contains(t, f.Reason, "overflow", "the processing error that killed it")
	assert.Equal(t, 3, f.ProcessingErrors, "envs/local.yaml queue.max_receive_count")
	assert.Positive(t, f.ReceiveCount)
	assert.NotEmpty(t, f.ReceivedAt)
	assert.True(t, f.Replayable)
	assert.False(t, f.Replayed)
	table := runGo(t, "run", "./services/tools/failures", "-env", "local", "-state", state)
	assert.Regexp(t, `legacy\s+`+id+`\s+5\.00 CZK\s+\d+\s+no\s+.*overflow`, table)

	removeCause()
	assert.Contains(t, runGo(t, "run", "./services/tools/replay", "-env", "local", "-state", state), `"sent":`)
	waitStatus(t, l, "legacy", id, "accounted", 30*time.Second)
	assert.Nil(t, findFailure(failuresTool(t, state, "-replayed"), func(f opsFailure) bool { return f.TransactionID == id }),
		"an accounted replay is no longer a failure")
}

// TestLocalFailuresToolListsUnlinkedDeadMessages: a dead message tied to no transaction is
// listed with -unlinked (its FAILURE# item), not replayable.
func TestLocalFailuresToolListsUnlinkedDeadMessages(t *testing.T) {
	l := startLocal(t)
	ctx := context.Background()
	st, state := l.State(), writeState(t, l)
	out, err := l.Clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.DLQURL),
		MessageBody: aws.String("not json " + runID())})
	require.NoError(t, err)
	key := "FAILURE#" + aws.ToString(out.MessageId)
	var f *opsFailure
	for deadline := time.Now().Add(30 * time.Second); f == nil && time.Now().Before(deadline); {
		f = findFailure(failuresTool(t, state, "-unlinked", "-limit", "100000"), func(f opsFailure) bool { return f.Key == key })
	}
	require.NotNil(t, f, "failures -unlinked lists %s", key)
	assert.Equal(t, "unlinked", f.Status)
	assert.Contains(t, f.Reason, "unparseable message")
	assert.False(t, f.Replayable)
	assert.Nil(t, findFailure(failuresTool(t, state), func(f opsFailure) bool { return f.Key == key }), "not without -unlinked")
}
