package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Timing is a parsed EventBridge schedule expression.
type Timing interface {
	// Next returns the first firing time strictly after t.
	Next(t time.Time) time.Time
	// String returns the expression.
	String() string
}

// Parse parses an EventBridge schedule expression: rate(N minute|minutes|hour|
// hours|day|days) or cron(minutes hours day-of-month month day-of-week year) with
// *, ?, lists, ranges, steps and month and day names. The cron extensions L, W and #
// are not supported locally.
func Parse(expr string) (Timing, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(expr)
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr)
	}
	return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", expr)
}

type rate struct {
	expr  string
	every time.Duration
}

func parseRate(expr string) (Timing, error) {
	fields := strings.Fields(expr[len("rate(") : len(expr)-1])
	if len(fields) != 2 {
		return nil, fmt.Errorf("schedule %q: want rate(<value> <unit>)", expr)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("schedule %q: %q is not a positive integer", expr, fields[0])
	}
	unit := map[string]time.Duration{
		"minute": time.Minute, "minutes": time.Minute,
		"hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour,
	}[fields[1]]
	if unit == 0 {
		return nil, fmt.Errorf("schedule %q: unit %q is not minute(s), hour(s) or day(s)", expr, fields[1])
	}
	if (n == 1) != !strings.HasSuffix(fields[1], "s") {
		return nil, fmt.Errorf("schedule %q: EventBridge wants the singular unit for 1 and the plural otherwise", expr)
	}
	return rate{expr: expr, every: time.Duration(n) * unit}, nil
}

func (r rate) Next(t time.Time) time.Time { return t.Add(r.every) }
func (r rate) String() string             { return r.expr }

type cron struct {
	expr                       string
	min, hour, dom, month, dow map[int]bool
	years                      map[int]bool // nil: every year
	domAny, dowAny             bool
}

func parseCron(expr string) (Timing, error) {
	f := strings.Fields(expr[len("cron(") : len(expr)-1])
	if len(f) != 6 {
		return nil, fmt.Errorf("schedule %q: cron takes 6 fields (minutes hours day-of-month month day-of-week year)", expr)
	}
	c := cron{expr: expr}
	var err error
	months := map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	days := map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
	if c.min, err = cronField(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("schedule %q minutes: %w", expr, err)
	}
	if c.hour, err = cronField(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("schedule %q hours: %w", expr, err)
	}
	c.domAny = f[2] == "?"
	if !c.domAny {
		if c.dom, err = cronField(f[2], 1, 31, nil); err != nil {
			return nil, fmt.Errorf("schedule %q day-of-month: %w", expr, err)
		}
	}
	if c.month, err = cronField(f[3], 1, 12, months); err != nil {
		return nil, fmt.Errorf("schedule %q month: %w", expr, err)
	}
	c.dowAny = f[4] == "?"
	if !c.dowAny {
		if c.dow, err = cronField(f[4], 1, 7, days); err != nil {
			return nil, fmt.Errorf("schedule %q day-of-week: %w", expr, err)
		}
	}
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("schedule %q: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	if f[5] != "*" {
		if c.years, err = cronField(f[5], 1970, 2199, nil); err != nil {
			return nil, fmt.Errorf("schedule %q year: %w", expr, err)
		}
	}
	return c, nil
}

func cronField(s string, lo, hi int, names map[string]int) (map[int]bool, error) {
	out := map[int]bool{}
	val := func(v string) (int, error) {
		if n, ok := names[strings.ToUpper(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a value in %d-%d", v, lo, hi)
		}
		return n, nil
	}
	for _, part := range strings.Split(s, ",") {
		if strings.ContainsAny(part, "LW#") && names == nil || strings.Contains(part, "#") || part == "L" {
			return nil, fmt.Errorf("%q: L, W and # are not supported locally", part)
		}
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%q: bad step", part)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = val(a); err != nil {
				return nil, err
			}
			if to, err = val(b); err != nil {
				return nil, err
			}
		default:
			v, err := val(rng)
			if err != nil {
				return nil, err
			}
			from = v
			if !hasStep {
				to = v
			}
		}
		if from > to {
			return nil, fmt.Errorf("%q: empty range", part)
		}
		for v := from; v <= to; v += step {
			out[v] = true
		}
	}
	return out, nil
}

func (c cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		if (c.years == nil || c.years[t.Year()]) && c.month[int(t.Month())] &&
			(c.domAny || c.dom[t.Day()]) && (c.dowAny || c.dow[int(t.Weekday())+1]) &&
			c.hour[t.Hour()] && c.min[t.Minute()] {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

func (c cron) String() string { return c.expr }
