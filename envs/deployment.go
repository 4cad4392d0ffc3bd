package envs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// checkDeployment checks that e.Deployment is one of CodeDeploy's predefined
// Lambda deployment configurations.
func (e Env) checkDeployment(c *checker, set func(fieldPath, any) bool) {
	d := e.Deployment
	percent := fieldPath{"deployment", "percent"}
	interval := fieldPath{"deployment", "interval_minutes"}
	switch d.Strategy {
	case StrategyCanary, StrategyLinear:
		allowed := intervalsFor(d.Strategy)
		if !set(percent, d.Percent) {
			c.add(percent, fmt.Sprintf("required for strategy %s", d.Strategy))
		}
		switch {
		case !set(interval, d.IntervalMinutes):
			c.add(interval, fmt.Sprintf("required for strategy %s (one of %s)", d.Strategy, joinInts(allowed)))
		case !slices.Contains(allowed, d.IntervalMinutes):
			c.add(interval, fmt.Sprintf("strategy %s allows %s (CodeDeploy's predefined Lambda configs), got %d",
				d.Strategy, joinInts(allowed), d.IntervalMinutes))
		}
	case StrategyAllAtOnce:
		if set(percent, d.Percent) {
			c.add(percent, "only valid with strategy canary or linear")
		}
		if set(interval, d.IntervalMinutes) {
			c.add(interval, "only valid with strategy canary or linear")
		}
	}
}

// joinInts renders xs as "1, 2, 3".
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
