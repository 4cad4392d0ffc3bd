// Package schedule runs EventBridge schedules locally: Parse reads a schedule expression
// (rate(...) or cron(...)), and a Scheduler invokes a rule's Lambda target at every firing
// time with the event EventBridge sends, retrying a failed invocation as Lambda's
// asynchronous invocations are retried.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/randid"
)

// Schedule is an EventBridge rule with a schedule expression and a Lambda target.
type Schedule struct {
	LogicalID, Name, ARN string
	// Expression is the rule's ScheduleExpression: rate(...) or cron(...).
	Expression string
	// Function is the logical id of the target function.
	Function string
	// TargetID is the target's Id.
	TargetID string
	// Input is the target's constant Input (JSON), "" to send the scheduled event.
	Input string
}

// ScheduledEvent is the event EventBridge sends a target of a scheduled rule.
func ScheduledEvent(ruleARN, region, account string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version":     "0",
		"id":          randid.UUID(),
		"detail-type": "Scheduled Event",
		"source":      "aws.events",
		"account":     account,
		"time":        at.UTC().Format(time.RFC3339),
		"region":      region,
		"resources":   []string{ruleARN},
		"detail":      map[string]any{},
	})
	return b
}

// Scheduler invokes a schedule's target at every firing time, asynchronously as
// EventBridge does: a failed invocation is retried (by default after 1 and 2 minutes,
// Lambda's asynchronous retry policy) without delaying the next firing.
type Scheduler struct {
	// Schedule is the rule and target.
	Schedule Schedule
	// Function is the target.
	Function lambdarie.Invoker
	// Region and Account fill the scheduled event.
	Region, Account string
	// Log receives a line per failed invocation (nil: slog.Default()).
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// RetryDelays are the delays before each retry of a failed invocation (nil: 1 and 2
	// minutes; empty non-nil: no retries).
	RetryDelays []time.Duration
	// OnInvoke, when set, is called after every invocation attempt.
	OnInvoke func(res *lambdarie.Result, err error)
	// Timing, when set, replaces the parsed Schedule.Expression (tests use it).
	Timing Timing
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Run fires until ctx is cancelled, then waits for the invocations it started (cancelled
// with ctx) before it returns.
func (s *Scheduler) Run(ctx context.Context) error {
	var fired sync.WaitGroup
	defer fired.Wait()
	timing := s.Timing
	if timing == nil {
		var err error
		if timing, err = Parse(s.Schedule.Expression); err != nil {
			return fmt.Errorf("schedule %s: %w", s.Schedule.LogicalID, err)
		}
	}
	next := timing.Next(s.now())
	for {
		if next.IsZero() {
			return fmt.Errorf("schedule %s: %s never fires again", s.Schedule.LogicalID, timing)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
		at := next
		next = timing.Next(at)
		payload := []byte(s.Schedule.Input)
		if s.Schedule.Input == "" {
			payload = ScheduledEvent(s.Schedule.ARN, s.Region, s.Account, at)
		}
		fired.Go(func() { s.fire(ctx, payload) })
	}
}

func (s *Scheduler) fire(ctx context.Context, payload []byte) {
	delays := s.RetryDelays
	if delays == nil {
		delays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	for attempt := 0; ; attempt++ {
		res, err := s.Function.Invoke(ctx, payload)
		if s.OnInvoke != nil {
			s.OnInvoke(res, err)
		}
		if err == nil && res.Error == nil {
			s.log().Debug("schedule: invoked", "rule", s.Schedule.LogicalID, "function", s.Schedule.Function,
				"duration_ms", res.Duration.Milliseconds())
			return
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		} else {
			msg = res.Error.Error()
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= len(delays) {
			s.log().Error("schedule: invocation failed, no retries left", "rule", s.Schedule.LogicalID, "function", s.Schedule.Function, "err", msg)
			return
		}
		s.log().Warn("schedule: invocation failed, retrying", "rule", s.Schedule.LogicalID, "function", s.Schedule.Function,
			"err", msg, "retry_in", delays[attempt].String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delays[attempt]):
		}
	}
}
