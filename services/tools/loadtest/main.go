// Command loadtest sends N notifications at concurrency C to a running payhook (the local
// stack by default), a fraction DUP of them twice and concurrently, as a provider retrying
// would; each provider in its own format (payhook's flat notification, Stripe payments or
// Standard Webhooks envelopes). It reports throughput and p50/p99 latency, then reads the table back: lost (a 2xx
// answered notification that never got accounted) and double-counted (minor units or counts
// added beyond the unique notifications) must both be 0.
//
//	go run ./services/tools/loadtest -n 2000 -c 16 -dup 0.2
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payhook/payhook/services/internal/money"
	"github.com/payhook/payhook/services/internal/probe"
)

// Config is one load run.
type Config struct {
	N, C     int
	Dup      float64
	Wait     time.Duration
	Currency string
	Retries  int
}

// Report is what a run measured: request counts by outcome, throughput, latency
// percentiles of the 200 answers, and the read-back (lost, double-counted).
type Report struct {
	Requests      int
	Unique        int
	Accepted      int
	Duplicates    int
	Refused       map[int]int
	Elapsed       time.Duration
	Throughput    float64
	P50, P99      time.Duration
	Lost          int
	DoubleCounted int64
	ExtraCount    int64
	// Settle is how long after the last answer every accepted notification was accounted
	// (or the wait ran out).
	Settle time.Duration
	// Stranded counts the records stored (whatever the answer) but not accounted by then.
	Stranded int
}

func main() {
	cfg := Config{Currency: "CHF", Retries: 8}
	flag.IntVar(&cfg.N, "n", 2000, "unique notifications")
	flag.IntVar(&cfg.C, "c", 16, "concurrent senders")
	flag.Float64Var(&cfg.Dup, "dup", 0.2, "fraction sent twice, concurrently")
	flag.DurationVar(&cfg.Wait, "wait", 2*time.Minute, "how long to wait for accounting")
	env, state := probe.TargetFlags(flag.CommandLine)
	flag.Parse()
	if cfg.N < 1 || cfg.N > 1_000_000 || cfg.C < 1 || cfg.C > 512 || cfg.Dup < 0 || cfg.Dup > 1 {
		fmt.Fprintln(os.Stderr, "loadtest: want 1 <= n <= 1e6, 1 <= c <= 512, 0 <= dup <= 1")
		os.Exit(2)
	}
	ctx := context.Background()
	t, err := probe.Find(ctx, *env, *state)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	rep, err := Run(ctx, probe.NewClient(t), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	fmt.Printf("requests %d (unique %d), accepted %d, duplicates %d, refused %v\n", rep.Requests, rep.Unique, rep.Accepted, rep.Duplicates, rep.Refused)
	fmt.Printf("throughput %.1f req/s over %s; latency p50 %s, p99 %s\n", rep.Throughput, rep.Elapsed.Round(time.Millisecond), rep.P50.Round(100*time.Microsecond), rep.P99.Round(100*time.Microsecond))
	fmt.Printf("settled %s after the last answer\n", rep.Settle.Round(10*time.Millisecond))
	fmt.Printf("lost %d, double-counted %d minor units / %d transactions, stranded %d\n", rep.Lost, rep.DoubleCounted, rep.ExtraCount, rep.Stranded)
	if rep.Lost != 0 || rep.DoubleCounted != 0 || rep.ExtraCount != 0 {
		os.Exit(1)
	}
}

type job struct {
	provider probe.Provider
	id       string
	amount   int64
}

// Run sends the load and reads the result back.
func Run(ctx context.Context, c *probe.Client, cfg Config) (Report, error) {
	providers := usableProviders(c.Target.Providers)
	if len(providers) == 0 {
		return Report{}, fmt.Errorf("no usable provider (signed providers need a secret)")
	}
	before, err := totals(ctx, c, providers, cfg.Currency)
	if err != nil {
		return Report{}, err
	}
	jobs := makeJobs(providers, cfg)
	rep := Report{Requests: len(jobs), Unique: cfg.N, Refused: map[int]int{}}
	accepted := send(ctx, c, cfg, jobs, &rep)
	sent := time.Now()
	pending, err := waitAccounted(ctx, c, accepted, cfg.Wait)
	rep.Settle = time.Since(sent)
	if err != nil {
		return rep, err
	}
	rep.Lost = len(pending)
	return rep, readBack(ctx, c, cfg, jobs, accepted, pending, before, &rep)
}

// usableProviders are the unsigned providers and the signed ones with a known secret.
func usableProviders(all []probe.Provider) []probe.Provider {
	var out []probe.Provider
	for _, p := range all {
		if p.Scheme == "none" || p.Secret != "" {
			out = append(out, p)
		}
	}
	return out
}

// totals reads each provider's daily total in currency: minor units and count.
func totals(ctx context.Context, c *probe.Client, providers []probe.Provider, currency string) (map[string][2]int64, error) {
	out := map[string][2]int64{}
	for _, p := range providers {
		tot, err := c.Total(ctx, p.Name, currency)
		if err != nil {
			return nil, err
		}
		out[p.Name] = [2]int64{tot.TotalMinor, tot.Count}
	}
	return out, nil
}

// makeJobs builds cfg.N notifications over the providers, a fraction cfg.Dup of them
// twice in a row (so two senders pick the copies up concurrently).
func makeJobs(providers []probe.Provider, cfg Config) []job {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var jobs []job
	for i := 0; i < cfg.N; i++ {
		p := providers[i%len(providers)]
		j := job{provider: p, id: fmt.Sprintf("load-%s-%06d", run, i), amount: 1 + rng.Int64N(99_999)}
		jobs = append(jobs, j)
		if rng.Float64() < cfg.Dup {
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// send posts the jobs from cfg.C senders, retrying as a provider backs off (post),
// records the outcomes and latencies in rep, and returns the accepted notifications by id.
func send(ctx context.Context, c *probe.Client, cfg Config, jobs []job, rep *Report) map[string]job {
	var mu sync.Mutex
	var latencies []time.Duration
	accepted := map[string]job{}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.C; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(jobs); i = int(next.Add(1) - 1) {
				j := jobs[i]
				r, err := post(ctx, c, cfg, j)
				mu.Lock()
				switch {
				case err != nil:
					rep.Refused[0]++
				case r.Status == 200:
					latencies = append(latencies, r.Latency)
					if r.Body["status"] == "duplicate" {
						rep.Duplicates++
					} else {
						rep.Accepted++
					}
					accepted[j.id] = j
				default:
					rep.Refused[r.Status]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.Throughput = float64(rep.Requests) / rep.Elapsed.Seconds()
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		rep.P50 = latencies[n/2]
		rep.P99 = latencies[min(n-1, n*99/100)]
	}
	return accepted
}

// post sends one job in its provider's format (a flat notification, a Stripe payment or
// an envelope; a duplicate is the same event again), retrying as providers do: a lost
// connection, throttling (429) and any 5xx, with a growing back-off.
func post(ctx context.Context, c *probe.Client, cfg Config, j job) (probe.Response, error) {
	cur, ok := money.LookupCurrency(cfg.Currency)
	if !ok {
		return probe.Response{}, fmt.Errorf("currency %s", cfg.Currency)
	}
	body, err := j.provider.Credit(j.id, money.Amount{Minor: j.amount, Currency: cur}, c.Target.Live)
	if err != nil {
		return probe.Response{}, err
	}
	var r probe.Response
	for attempt := 0; attempt <= cfg.Retries; attempt++ {
		r, err = c.Deliver(ctx, j.provider, j.id, body)
		if err == nil && r.Status != 429 && r.Status < 500 {
			break
		}
		time.Sleep(min(time.Duration(50<<attempt)*time.Millisecond, 2*time.Second)) // as a provider backs off
	}
	return r, err
}

// waitAccounted waits up to wait for every accepted notification to be accounted and
// returns those that were not.
func waitAccounted(ctx context.Context, c *probe.Client, accepted map[string]job, wait time.Duration) ([]job, error) {
	deadline := time.Now().Add(wait)
	pending := make([]job, 0, len(accepted))
	for _, j := range accepted {
		pending = append(pending, j)
	}
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []job
		for _, j := range pending {
			t, err := c.Target.Store.Get(ctx, j.provider.Name, j.id)
			if err != nil {
				return nil, err
			}
			if t == nil || t.Status != "accounted" {
				still = append(still, j)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	return pending, nil
}

// readBack compares how far the totals moved with the unique notifications accounted.
// Totals first, then the records that were not yet seen accounted: a record becomes
// accounted in the same transaction that moves its total, so every record the totals
// include reads back as accounted. A refused (503) notification may still be accounted,
// since ingest stored it before its queue send failed and the reconciler sends it later;
// it then counts once, like any other.
func readBack(ctx context.Context, c *probe.Client, cfg Config, jobs []job, accepted map[string]job, pending []job,
	before map[string][2]int64, rep *Report) error {
	moved := map[string][2]int64{}
	for name, b := range before {
		tot, err := c.Total(ctx, name, cfg.Currency)
		if err != nil {
			return err
		}
		moved[name] = [2]int64{tot.TotalMinor - b[0], tot.Count - b[1]}
	}
	unseen := map[string]bool{}
	for _, j := range pending {
		unseen[j.id] = true
	}
	expected := map[string][2]int64{} // by provider: minor units, count
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.id] {
			continue // the second copy of a duplicate
		}
		seen[j.id] = true
		if _, ok := accepted[j.id]; !ok || unseen[j.id] {
			t, err := c.Target.Store.Get(ctx, j.provider.Name, j.id)
			if err != nil {
				return err
			}
			if t != nil && t.Status != "accounted" {
				rep.Stranded++ // stored, but not accounted by the end of the wait
			}
			if t == nil || t.Status != "accounted" {
				continue
			}
		}
		e := expected[j.provider.Name]
		expected[j.provider.Name] = [2]int64{e[0] + j.amount, e[1] + 1}
	}
	for name, m := range moved {
		e := expected[name]
		if d := m[0] - e[0]; d > 0 {
			rep.DoubleCounted += d
		}
		if d := m[1] - e[1]; d > 0 {
			rep.ExtraCount += d
		}
	}
	return nil
}
