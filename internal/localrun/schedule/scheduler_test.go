package schedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/localrun/internal/testenv"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/localrun/schedule"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestParse(t *testing.T) {
	at := time.Date(2026, 11, 25, 13, 7, 30, 0, time.UTC) // a Wednesday
	cases := []struct {
		expr string
		next time.Time
	}{
		{"rate(1 minute)", at.Add(time.Minute)},
		{"rate(5 minutes)", at.Add(5 * time.Minute)},
		{"rate(2 hours)", at.Add(2 * time.Hour)},
		{"rate(1 day)", at.Add(24 * time.Hour)},
		{"cron(0/15 * * * ? *)", time.Date(2026, 11, 25, 13, 15, 0, 0, time.UTC)},
		{"cron(0 10 * * ? *)", time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)},
		{"cron(30 9 ? * MON-FRI *)", time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)},
		{"cron(0 0 1 JAN ? 2027)", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"cron(0 12 ? * 1 *)", time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}, // 1 = Sunday
		{"cron(0 12 ? * 7 *)", time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}, // 7 = Saturday
		{"cron(0 12 ? * 2-3,6 *)", time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)},
		{"cron(0 12 ? * 1/3 *)", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).AddDate(0, 0, 3)}, // SUN, WED, SAT
		{"cron(15 13 ? * wed *)", time.Date(2026, 11, 25, 13, 15, 0, 0, time.UTC)},
		{"cron(0 0 29 FEB ? 2028)", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"cron(0 0 1 1 ? 2026,2029-2031/2)", time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		tm, err := schedule.Parse(c.expr)
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.next, tm.Next(at), c.expr)
		assert.Equal(t, c.expr, tm.String())
	}
	for expr, reason := range map[string]string{
		"rate(1 minutes)":        "singular unit",
		"rate(2 minute)":         "singular unit",
		"rate(0 minutes)":        "not a positive integer",
		"rate(1 week)":           "unit",
		"every minute":           "want rate(...) or cron(...)",
		"cron(* * * * *)":        "6 fields",
		"cron(0 0 * * * *)":      "exactly one of day-of-month and day-of-week",
		"cron(0 0 ? * ? *)":      "exactly one of day-of-month and day-of-week",
		"cron(0 0 L * ? *)":      "L, W and # are not supported",
		"cron(0 0 15W * ? *)":    "L, W and # are not supported",
		"cron(0 0 ? * 6#3 *)":    "L, W and # are not supported",
		"cron(0 0 ? * 6L *)":     "L, W and # are not supported",
		"cron(61 * * * ? *)":     "61",
		"cron(0 0 ? * 0 *)":      "not a value in 1-7",
		"cron(0 0 ? * 8 *)":      "not a value in 1-7",
		"cron(0 0 32 * ? *)":     "32",
		"cron(0 0 1 JAN ? 1969)": "not a year",
		"cron(? 0 1 * ? *)":      "? is only for",
	} {
		_, err := schedule.Parse(expr)
		require.Error(t, err, expr)
		assert.Contains(t, err.Error(), expr, "the error names the expression")
		assert.Contains(t, err.Error(), reason, expr)
	}
	far, err := schedule.Parse("cron(0 0 1 JAN ? 2040)")
	require.NoError(t, err)
	assert.True(t, far.Next(at).IsZero(), "no firing in the next five years")
	tm, err := schedule.Parse("rate(1 minute)")
	require.NoError(t, err)
	t0 := time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)
	assert.Equal(t, t0.Add(time.Minute), tm.Next(t0))
}

type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }
func (e every) String() string             { return "every " + time.Duration(e).String() }

type fakeInvoker struct {
	mu       sync.Mutex
	payloads [][]byte
	fail     int // fail this many first calls
}

func (f *fakeInvoker) Invoke(_ context.Context, payload []byte) (*lambdarie.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.payloads = append(f.payloads, payload)
	if len(f.payloads) <= f.fail {
		return nil, errors.New("down")
	}
	return &lambdarie.Result{Payload: []byte("null")}, nil
}

func (f *fakeInvoker) calls() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.payloads...)
}

func TestSchedulerFiresScheduledEvents(t *testing.T) {
	inv := &fakeInvoker{fail: 1}
	s := &schedule.Scheduler{
		Schedule: schedule.Schedule{LogicalID: "Rule", ARN: "arn:aws:events:us-east-1:000000000000:rule/r", Function: "Fn"},
		Function: inv, Region: "us-east-1", Account: cfn.LocalAccount,
		Timing: every(100 * time.Millisecond), RetryDelays: []time.Duration{10 * time.Millisecond},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	require.NoError(t, s.Run(ctx))
	calls := inv.calls()
	require.GreaterOrEqual(t, len(calls), 4, "three firings and one retry")
	var ev struct {
		Version    string         `json:"version"`
		ID         string         `json:"id"`
		DetailType string         `json:"detail-type"`
		Source     string         `json:"source"`
		Account    string         `json:"account"`
		Time       time.Time      `json:"time"`
		Region     string         `json:"region"`
		Resources  []string       `json:"resources"`
		Detail     map[string]any `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(calls[0], &ev))
	assert.Equal(t, "Scheduled Event", ev.DetailType)
	assert.Equal(t, "aws.events", ev.Source)
	assert.Equal(t, "0", ev.Version)
	assert.Equal(t, cfn.LocalAccount, ev.Account)
	assert.Equal(t, "us-east-1", ev.Region)
	assert.Equal(t, []string{"arn:aws:events:us-east-1:000000000000:rule/r"}, ev.Resources)
	assert.Equal(t, map[string]any{}, ev.Detail)
	assert.Equal(t, calls[0], calls[1], "the retry sends the same event")
}

func TestSchedulerInvokesTheFunctionUnderTheRIE(t *testing.T) {
	st := testenv.Provision(t, "echo-Poller.template.json", provision.Options{})
	require.Len(t, st.Schedules, 1)
	spec, _ := st.Function("Echo")
	fn := testenv.StartEcho(t, spec, 1)
	var mu sync.Mutex
	var results []*lambdarie.Result
	var errs []error
	s := &schedule.Scheduler{Schedule: st.Schedules[0], Function: fn, Region: st.Region, Account: st.Account,
		Timing: every(100 * time.Millisecond), RetryDelays: []time.Duration{},
		OnInvoke: func(res *lambdarie.Result, err error) { // on the scheduler's goroutines: collect only
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			results = append(results, res)
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 550*time.Millisecond)
	defer cancel()
	require.NoError(t, s.Run(ctx)) // returns once every invocation it started is done
	mu.Lock()
	defer mu.Unlock()
	for _, err := range errs {
		// Only an invocation still running when the schedule stopped may fail, and only
		// because it was cancelled.
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	require.NotEmpty(t, results)
	var out struct {
		Event map[string]any    `json:"event"`
		Env   map[string]string `json:"env"`
	}
	require.Nil(t, results[0].Error)
	require.NoError(t, json.Unmarshal(results[0].Payload, &out))
	assert.Equal(t, "Scheduled Event", out.Event["detail-type"])
	assert.Equal(t, "echo", out.Env["PAYHOOK_SERVICE"])
	assert.Equal(t, spec.Name, out.Env["AWS_LAMBDA_FUNCTION_NAME"])
	assert.Equal(t, "5", out.Env["AWS_LAMBDA_FUNCTION_TIMEOUT"])
	assert.Equal(t, "128", out.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
}
