package cost

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// secondsPerMonth is a 30-day month.
const secondsPerMonth = 30 * 24 * 3600

// Line is one priced line of an estimate.
type Line struct {
	// Service and Item say what is paid for ("DynamoDB", "write request units").
	Service, Item string
	// Quantity is how many Price.Units a month (already divided by the unit's size, e.g. 1M).
	Quantity float64
	// Price is the unit price and its source.
	Price Price
	// Basis explains how Quantity was counted.
	Basis string
}

// USD is the line's monthly cost.
func (l Line) USD() float64 { return l.Quantity * l.Price.USD }

// Estimate is one configuration's monthly cost.
type Estimate struct {
	// Title names the configuration ("payhook prod", "reference design").
	Title string
	// Region is where it runs; Known is false outside PricedRegion (no figures then).
	Region string
	Known  bool
	// WebhooksPerMonth is the rate estimated for.
	WebhooksPerMonth float64
	// Lines are the priced lines, largest first.
	Lines []Line
	// Assumptions lists what was assumed rather than measured or counted.
	Assumptions []string
}

// Total is the monthly total in USD.
func (e Estimate) Total() float64 {
	var t float64
	for _, l := range e.Lines {
		t += l.USD()
	}
	return t
}

// PerMillion is the cost of one million webhooks at this rate.
func (e Estimate) PerMillion() float64 {
	if e.WebhooksPerMonth == 0 {
		return 0
	}
	return e.Total() / e.WebhooksPerMonth * 1e6
}

// Function is one Lambda function's monthly load.
type Function struct {
	Name        string
	MemoryMB    int
	Invocations float64
	// DurationMs is the billed duration of one invocation (rounded up to 1 ms by Lambda).
	DurationMs float64
	// LogBytes is what one invocation writes to CloudWatch Logs (its lines, EMF records and
	// Lambda's START/END/REPORT lines).
	LogBytes float64
}

// lambdaLines prices the functions: requests, GB-seconds and log ingestion.
func lambdaLines(fns []Function) []Line {
	var out []Line
	for _, f := range fns {
		if f.Invocations == 0 {
			continue
		}
		billed := math.Ceil(f.DurationMs)
		gbs := f.Invocations * billed / 1000 * float64(f.MemoryMB) / 1024
		out = append(out,
			Line{"Lambda", f.Name + " invocations", f.Invocations / 1e6, Prices.LambdaRequests,
				fmt.Sprintf("%s invocations", human(f.Invocations))},
			Line{"Lambda", f.Name + " compute", gbs, Prices.LambdaGBSecondArm,
				fmt.Sprintf("%s × %g ms × %d MB", human(f.Invocations), billed, f.MemoryMB)},
			Line{"CloudWatch", f.Name + " logs", f.Invocations * f.LogBytes / 1e9, Prices.LogsIngest,
				fmt.Sprintf("%s × %.0f B", human(f.Invocations), f.LogBytes)},
		)
	}
	return out
}

// finish sorts the lines, largest first, and marks an unpriced region.
func finish(e Estimate) Estimate {
	sort.SliceStable(e.Lines, func(i, j int) bool { return e.Lines[i].USD() > e.Lines[j].USD() })
	e.Known = e.Region == PricedRegion
	return e
}

// xrayTraces is how many traces active tracing records for n requests a month spread
// evenly: X-Ray's default sampling keeps the first request each second and 5% of the rest.
func xrayTraces(n float64) float64 {
	reservoir := math.Min(n, secondsPerMonth)
	return reservoir + 0.05*math.Max(0, n-reservoir)
}

// human prints a count compactly: 12.3M, 450k, 12.
func human(v float64) string {
	switch {
	case v >= 1e9:
		return trim(fmt.Sprintf("%.2fB", v/1e9))
	case v >= 1e6:
		return trim(fmt.Sprintf("%.2fM", v/1e6))
	case v >= 1e4:
		return trim(fmt.Sprintf("%.1fk", v/1e3))
	case v >= 10:
		return trim(fmt.Sprintf("%.1f", v))
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func trim(s string) string {
	unit := strings.TrimLeft(s, "0123456789.")
	num := strings.TrimSuffix(s, unit)
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	return num + unit
}
