package apigw

import (
	"fmt"
	"sync"
	"time"
)

func (s *Server) bucket(key string, t *Throttle) *tokenBucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]*tokenBucket{}
	}
	b, ok := s.buckets[key]
	if !ok {
		b = newTokenBucket(t.RateLimit, t.BurstLimit, s.now())
		s.buckets[key] = b
	}
	return b
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

// tokenBucket is API Gateway's throttle: rate tokens per second, capacity burst.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) *tokenBucket {
	b := float64(burst)
	if b <= 0 && rate > 0 {
		b = max(1, rate)
	}
	return &tokenBucket{rate: rate, burst: b, tokens: b, last: now}
}

func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
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
