package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
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
// *, ?, lists, ranges, steps and month and day names (the first five fields are read by
// github.com/robfig/cron). The cron extensions L, W and # are not supported locally.
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

// cronParser reads the first five fields of an EventBridge cron expression; the year
// field is read by parseYears.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

type cronTiming struct {
	expr  string
	spec  cron.Schedule
	years map[int]bool // nil: every year
}

// EventBridge's range of years.
const minYear, maxYear = 1970, 2199

func parseCron(expr string) (Timing, error) {
	f := strings.Fields(expr[len("cron(") : len(expr)-1])
	if len(f) != 6 {
		return nil, fmt.Errorf("schedule %q: cron takes 6 fields (minutes hours day-of-month month day-of-week year)", expr)
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, fmt.Errorf("schedule %q: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	for _, i := range []int{0, 1, 3, 5} {
		if strings.Contains(f[i], "?") {
			return nil, fmt.Errorf("schedule %q: ? is only for day-of-month or day-of-week", expr)
		}
	}
	if strings.ContainsAny(f[2], "LWlw") || strings.Contains(f[4], "#") || strings.HasSuffix(strings.ToUpper(f[4]), "L") {
		return nil, fmt.Errorf("schedule %q: L, W and # are not supported locally", expr)
	}
	dow, err := robfigDow(f[4])
	if err != nil {
		return nil, fmt.Errorf("schedule %q day-of-week: %w", expr, err)
	}
	spec, err := cronParser.Parse(strings.Join([]string{f[0], f[1], f[2], f[3], dow}, " "))
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	years, err := parseYears(f[5])
	if err != nil {
		return nil, fmt.Errorf("schedule %q year: %w", expr, err)
	}
	return cronTiming{expr: expr, spec: spec, years: years}, nil
}

// robfigDow turns an EventBridge day-of-week field (1-7, SUN=1) into robfig/cron's (0-6,
// SUN=0); names, *, ? and steps are the same in both.
func robfigDow(field string) (string, error) {
	parts := strings.Split(field, ",")
	for i, part := range parts {
		rng, step, hasStep := strings.Cut(part, "/")
		ends := strings.Split(rng, "-")
		for j, e := range ends {
			n, err := strconv.Atoi(e)
			if err != nil {
				continue // a name, * or ?: the parser checks it
			}
			if n < 1 || n > 7 {
				return "", fmt.Errorf("%q is not a value in 1-7", e)
			}
			ends[j] = strconv.Itoa(n - 1)
		}
		parts[i] = strings.Join(ends, "-")
		if hasStep {
			parts[i] += "/" + step
		}
	}
	return strings.Join(parts, ","), nil
}

// parseYears reads a cron year field (*, values, ranges, lists and steps in
// 1970-2199); nil means every year.
func parseYears(field string) (map[int]bool, error) {
	if field == "*" {
		return nil, nil
	}
	year := func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < minYear || n > maxYear {
			return 0, fmt.Errorf("%q is not a year in %d-%d", v, minYear, maxYear)
		}
		return n, nil
	}
	years := map[int]bool{}
	for _, part := range strings.Split(field, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%q: bad step", part)
			}
			step = n
		}
		from, to := minYear, maxYear
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = year(a); err != nil {
				return nil, err
			}
			switch {
			case isRange:
				if to, err = year(b); err != nil {
					return nil, err
				}
			case !hasStep:
				to = from
			}
		}
		if from > to {
			return nil, fmt.Errorf("%q: empty range", part)
		}
		for y := from; y <= to; y += step {
			years[y] = true
		}
	}
	return years, nil
}

// Next returns the first firing after t, in UTC as EventBridge's cron is, or the zero
// time when there is none in the next five years.
func (c cronTiming) Next(t time.Time) time.Time {
	t = t.UTC()
	limit := t.AddDate(5, 0, 0)
	for {
		n := c.spec.Next(t)
		if n.IsZero() || n.After(limit) {
			return time.Time{}
		}
		if c.years == nil || c.years[n.Year()] {
			return n.UTC()
		}
		// Not a year of the schedule: go on from the end of that year.
		t = time.Date(n.Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
	}
}

func (c cronTiming) String() string { return c.expr }
