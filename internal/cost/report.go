package cost

import (
	"fmt"
	"io"
	"strings"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/cfn"
)

// CountTemplate counts what an env's synthesized template holds that is billed per month.
func CountTemplate(body []byte) (TemplateCounts, error) {
	tmpl, err := cfn.Parse("count", body)
	if err != nil {
		return TemplateCounts{}, fmt.Errorf("count template: %w", err)
	}
	var c TemplateCounts
	for _, r := range tmpl.Resources {
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			c.AlarmMetrics += alarmMetrics(r.Properties)
		case "AWS::CloudWatch::Dashboard":
			c.Dashboards++
		case "AWS::KMS::Key":
			c.KMSKeys++
			if rot, _ := r.Properties["EnableKeyRotation"].(bool); rot {
				c.RotatedKeys++
			}
		case "AWS::DynamoDB::Table":
			spec, _ := r.Properties["PointInTimeRecoverySpecification"].(map[string]any)
			if on, _ := spec["PointInTimeRecoveryEnabled"].(bool); on {
				c.PITR = true
			}
		case "AWS::SecretsManager::Secret":
			c.Secrets++
		case "AWS::WAFv2::WebACL":
			rules, _ := r.Properties["Rules"].([]any)
			c.WAFRules += len(rules)
		}
	}
	return c, nil
}

// alarmMetrics is how many alarm metrics CloudWatch bills for one alarm: one for an alarm on
// a metric, one per metric (not expression) of a metric-math alarm.
func alarmMetrics(props map[string]any) int {
	metrics, ok := props["Metrics"].([]any)
	if !ok {
		return 1
	}
	n := 0
	for _, m := range metrics {
		if mm, _ := m.(map[string]any); mm["MetricStat"] != nil {
			n++
		}
	}
	return max(n, 1)
}

// WriteMarkdown writes the estimates side by side: one table per estimate, then a summary.
func WriteMarkdown(w io.Writer, estimates ...Estimate) {
	for _, e := range estimates {
		fmt.Fprintf(w, "### %s (%s, %s webhooks/month)\n\n", e.Title, e.Region, human(e.WebhooksPerMonth))
		if !e.Known {
			fmt.Fprintf(w, "Unknown: prices are held only for %s; none is guessed for %s.\n\n", PricedRegion, e.Region)
			continue
		}
		fmt.Fprintln(w, "| service | item | quantity | unit price | USD/month | how counted |")
		fmt.Fprintln(w, "| --- | --- | ---: | --- | ---: | --- |")
		for _, l := range e.Lines {
			fmt.Fprintf(w, "| %s | %s | %s | $%g per %s | %.2f | %s |\n",
				l.Service, l.Item, human(l.Quantity), l.Price.USD, l.Price.Unit, l.USD(), l.Basis)
		}
		fmt.Fprintf(w, "| **total** | | | | **%.2f** | **$%.2f per million webhooks** |\n\n", e.Total(), e.PerMillion())
		if len(e.Assumptions) > 0 {
			fmt.Fprintf(w, "Assumed: %s.\n\n", strings.Join(e.Assumptions, "; "))
		}
	}
	if len(estimates) == 2 && estimates[0].Known && estimates[1].Known && estimates[1].Total() > 0 {
		a, b := estimates[0], estimates[1]
		fmt.Fprintf(w, "%s: $%.2f/month ($%.2f per million); %s: $%.2f/month ($%.2f per million); ratio %.2f×.\n\n",
			a.Title, a.Total(), a.PerMillion(), b.Title, b.Total(), b.PerMillion(), a.Total()/b.Total())
	}
	fmt.Fprintf(w, "Prices: AWS's public %s price pages, read %s (first tier, free tiers excluded):\n", PricedRegion, PricesAsOf)
	seen := map[string]bool{}
	for _, e := range estimates {
		for _, l := range e.Lines {
			if !seen[l.Price.Source] {
				seen[l.Price.Source] = true
				fmt.Fprintf(w, "- %s\n", l.Price.Source)
			}
		}
	}
}

// ForEnv writes env e's estimate beside the reference design's: template is e's synthesized
// template (for what it counts), benchPath the measurements `mage bench` wrote.
func ForEnv(w io.Writer, e envs.Env, template []byte, benchPath string, load Workload) error {
	m, err := LoadMeasured(benchPath)
	if err != nil {
		return err
	}
	counts, err := CountTemplate(template)
	if err != nil {
		return err
	}
	WriteMarkdown(w, Payhook(e, load, m, counts), Reference(load, m, e.LogRetentionDays))
	Guarantees(w, PerBatch(e, load))
	return nil
}
