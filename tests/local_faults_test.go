package tests

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
)

// injectFaults makes the shared local stack inject plan's faults until the test ends.
func injectFaults(t *testing.T, l *localrun.Local, plan faults.Plan) {
	t.Helper()
	require.NoError(t, plan.Check())
	l.InjectFaults(&plan)
	t.Cleanup(func() { l.InjectFaults(nil) })
}

// injected counts the faults recorded in the local stack's call log, by "operation kind".
func injected(t *testing.T, l *localrun.Local) map[string]int {
	t.Helper()
	calls, err := iamproxy.ReadCalls(filepath.Join(l.Config.WorkDir, localrun.CallsFile))
	require.NoError(t, err)
	out := map[string]int{}
	for _, c := range calls {
		if c.Fault != "" {
			out[c.Operation+" "+c.Fault]++
			out[c.Fault]++
		}
	}
	return out
}

// TestLocalLostResponsesAreAbsorbed: a call that took effect but whose answer never arrived
// is retried by the SDK; each such site on the webhook path absorbs the retry, so the
// notification is answered 200 and counted exactly once.
func TestLocalLostResponsesAreAbsorbed(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	p := s.provider("legacy")
	for i, site := range []struct{ service, action, function, why string }{
		{"dynamodb", "PutItem", "IngressHandler*", "ingest's put committed unseen: the retry finds its own record and sends it"},
		{"sqs", "SendMessage", "IngressHandler*", "ingest's send delivered unseen: the message is sent twice, counted once"},
		{"dynamodb", "TransactWriteItems", "AccountingConsumer*", "accounting's transaction committed unseen: the retry finds it accounted"},
	} {
		t.Run(site.action, func(t *testing.T) {
			currency := []string{"SEK", "NOK", "DKK"}[i]
			before := injected(t, l)[site.service+":"+site.action+" lost-response"]
			injectFaults(t, l, faults.Plan{Seed: 1, Rules: []faults.Rule{
				{Service: site.service, Action: site.action, Function: site.function, Kind: faults.LostResponse, Every: 1, Times: 1}}})
			sum, count := total(t, l, p.Name, currency)
			id := fmt.Sprintf("lost-%s-%s", site.action, runID())
			code, resp := s.post(p, body(p.Name, id, "4.56", currency))
			require.Equal(t, 200, code, "%v", resp)
			waitStatus(t, l, p.Name, id, "accounted", 60*time.Second)
			assert.Equal(t, before+1, injected(t, l)[site.service+":"+site.action+" lost-response"], "the fault was injected")
			after, afterCount := total(t, l, p.Name, currency)
			assert.Equal(t, int64(456), after-sum, site.why)
			assert.Equal(t, int64(1), afterCount-count, site.why)
		})
	}
}

// TestLocalChaosLosesNothing runs a load with the default fault plan at 5 % of every kind
// on every AWS call of the webhook path (throttling, 500s, transaction conflicts, slow
// calls, lost responses), senders retrying as providers do: every notification answered
// 200 is accounted, exactly once, and the totals are exact to the minor unit.
func TestLocalChaosLosesNothing(t *testing.T) {
	l := startLocal(t)
	s := newSender(t, l)
	providers := []string{"legacy", "acme"}
	const n, currency = 200, "PLN"
	before := map[string][2]int64{}
	for _, name := range providers {
		sum, count := total(t, l, name, currency)
		before[name] = [2]int64{sum, count}
	}
	faultsBefore := injected(t, l)
	injectFaults(t, l, faults.DefaultPlan(0.05))

	run := runID()
	want := map[string][2]int64{}
	type shot struct{ provider, id, amount string }
	var shots []shot
	for i := 0; i < n; i++ {
		name := providers[i%len(providers)]
		amt := int64(100 + i*13)
		w := want[name]
		want[name] = [2]int64{w[0] + amt, w[1] + 1}
		sh := shot{name, fmt.Sprintf("chaos-%s-%03d", run, i), fmt.Sprintf("%d.%02d", amt/100, amt%100)}
		shots = append(shots, sh)
		if i%5 == 0 {
			shots = append(shots, sh) // a provider's redelivery
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	failed := make([]string, len(shots))
	for i, sh := range shots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := s.provider(sh.provider)
			for attempt := 0; ; attempt++ { // as a provider retries: any 5xx, a lost connection
				code, resp := s.post(p, body(p.Name, sh.id, sh.amount, currency))
				if code == 200 {
					return
				}
				if attempt == 10 || code != 0 && code < 500 && code != 429 {
					failed[i] = fmt.Sprintf("%s: %d %v", sh.id, code, resp)
					return
				}
				time.Sleep(time.Duration(100*(attempt+1)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for _, f := range failed {
		assert.Empty(t, f, "every notification is eventually answered 200")
	}
	start := time.Now()
	for _, sh := range shots {
		waitStatus(t, l, sh.provider, sh.id, "accounted", 3*time.Minute)
	}
	t.Logf("settled %s after the last answer", time.Since(start).Round(10*time.Millisecond))
	for _, name := range providers {
		sum, count := total(t, l, name, currency)
		assert.Equal(t, want[name][0], sum-before[name][0], "%s: totals exact to the minor unit", name)
		assert.Equal(t, want[name][1], count-before[name][1], "%s: each notification counted once", name)
	}
	got := injected(t, l)
	for _, k := range faults.Kinds() {
		assert.Positive(t, got[string(k)]-faultsBefore[string(k)], "faults of kind %s were injected", k)
	}
	t.Logf("faults injected: %v", got)
}
