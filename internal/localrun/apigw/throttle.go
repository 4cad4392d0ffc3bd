package apigw

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter returns the token bucket of key, made for t on first use.
func (s *Server) limiter(key string, t *Throttle) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limiters == nil {
		s.limiters = map[string]*rate.Limiter{}
	}
	l, ok := s.limiters[key]
	if !ok {
		l = newLimiter(t.RateLimit, t.BurstLimit)
		s.limiters[key] = l
	}
	return l
}

func (s *Server) quota(pl *UsagePlan, k *APIKey) *quotaCounter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quotas == nil {
		s.quotas = map[string]*quotaCounter{}
	}
	key := pl.ID + ":" + k.ID
	q, ok := s.quotas[key]
	if !ok {
		q = &quotaCounter{limit: pl.Quota.Limit, period: pl.Quota.Period}
		s.quotas[key] = q
	}
	return q
}

// newLimiter is API Gateway's throttle: a token bucket that starts full, holding burst
// tokens and refilled at rate tokens per second. A burst of 0 with a positive rate is
// taken as max(1, rate) (rounded down); a rate of 0 lets the burst through once only.
func newLimiter(r float64, burst int) *rate.Limiter {
	if burst <= 0 && r > 0 {
		burst = max(1, int(r))
	}
	return rate.NewLimiter(rate.Limit(r), burst)
}

// quotaCounter counts requests per calendar period in UTC (the quota's Offset is not
// applied).
type quotaCounter struct {
	mu     sync.Mutex
	limit  int
	period string
	window string
	used   int
}

func (q *quotaCounter) take(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	now = now.UTC()
	var w string
	switch q.period {
	case "WEEK":
		y, wk := now.ISOWeek()
		w = fmt.Sprintf("%d-W%d", y, wk)
	case "MONTH":
		w = now.Format("2006-01")
	default:
		w = now.Format("2006-01-02")
	}
	if w != q.window {
		q.window, q.used = w, 0
	}
	if q.used >= q.limit {
		return false
	}
	q.used++
	return true
}
