package tests

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/stacks/payments"
)

// githubAnchor is the anchor GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	h := strings.ToLower(strings.TrimSpace(heading))
	h = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

// TestEveryAlarmLinksItsRunbookEntry: every alarm of every env ends its description with
// the env's runbook URL and an anchor the README's Runbook section has, so a page says what
// to do.
func TestEveryAlarmLinksItsRunbookEntry(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(readme), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	link := regexp.MustCompile(`Runbook: (\S+)#(alarm-[a-z0-9-]+)$`)
	for _, e := range synthesized.envs {
		n := 0
		for _, a := range ofType(resources(t, e.Name), "AWS::CloudWatch::Alarm") {
			desc, _ := a.Props["AlarmDescription"].(string)
			m := link.FindStringSubmatch(desc)
			if !assert.NotNil(t, m, "%s %s: %q", e.Name, a.ID, desc) {
				continue
			}
			assert.Equal(t, e.Alarms.RunbookURL, m[1], "%s %s", e.Name, a.ID)
			assert.True(t, anchors[m[2]], "%s %s: the README has no heading for #%s", e.Name, a.ID, m[2])
			n++
		}
		assert.Greater(t, n, 20, e.Name)
	}
	assert.Equal(t, "alarm-error-rate", payments.RunbookAnchor("ErrorRateAlarm"))
	assert.Equal(t, "alarm-waf-blocked", payments.RunbookAnchor("WafBlockedAlarm"))
}
