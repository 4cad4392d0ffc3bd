// Package faults injects into local mode's AWS calls the failures AWS returns on a healthy
// day: throttling, 500s, transaction conflicts, slow calls, and the worst one, a call that
// succeeded whose response never arrived (the write is committed, the caller sees a broken
// connection and retries). A Plan says where and how often; an Injector decides, call by
// call, deterministically for a seed. The IAM proxy (internal/localrun/iamproxy), which sees
// every call a function makes, answers an injected fault in the service's own protocol and
// error shape (Response), so the AWS SDK classifies it exactly as it classifies AWS's:
// retryable or not, a throttle or not.
package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"
)

// Kind is a kind of fault.
type Kind string

// The kinds of fault.
const (
	// Throttle answers the service's throttling error (DynamoDB's
	// ProvisionedThroughputExceededException, ThrottlingException elsewhere).
	Throttle Kind = "throttle"
	// ServerError answers HTTP 500 with the service's internal error.
	ServerError Kind = "500"
	// Conflict answers DynamoDB's TransactionCanceledException whose every reason is
	// TransactionConflict (TransactWriteItems), TransactionConflictException otherwise.
	Conflict Kind = "conflict"
	// Latency delays the call by the rule's latency_ms, then serves it.
	Latency Kind = "latency"
	// LostResponse serves the call, then resets the connection instead of answering.
	LostResponse Kind = "lost-response"
)

// Kinds lists every kind, in the order reports print them.
func Kinds() []Kind { return []Kind{Throttle, ServerError, Conflict, Latency, LostResponse} }

// Rule is where and how often one kind of fault is injected.
type Rule struct {
	// Service is the call's signing name (dynamodb, sqs, sns, secretsmanager, kms), a glob.
	Service string `yaml:"service"`
	// Action is the operation (PutItem, SendMessage, Transact*), a glob; "*" when empty.
	Action string `yaml:"action"`
	// Function is the calling function's logical id, a glob; "*" when empty.
	Function string `yaml:"function"`
	// Kind is what is injected.
	Kind Kind `yaml:"kind"`
	// Rate is the share of matching calls injected (0..1); or Every, every Nth matching call.
	Rate  float64 `yaml:"rate"`
	Every int     `yaml:"every"`
	// Times caps the injections of this rule (0: no cap).
	Times int `yaml:"times"`
	// LatencyMs is the delay of a latency fault.
	LatencyMs int `yaml:"latency_ms"`
}

// Plan is a seed and the rules, the first matching rule deciding a call.
type Plan struct {
	// Seed makes the rate draws repeatable.
	Seed uint64 `yaml:"seed"`
	// Rules are tried in order; a call gets at most one fault.
	Rules []Rule `yaml:"rules"`
}

// ParsePlan reads a plan (YAML, unknown keys refused) and checks every rule.
func ParsePlan(b []byte) (Plan, error) {
	var p Plan
	if err := yaml.UnmarshalWithOptions(b, &p, yaml.Strict()); err != nil {
		return Plan{}, fmt.Errorf("fault plan: %w", err)
	}
	return p, p.Check()
}

// Load reads a plan: "default" is DefaultPlan(0.05); anything else names a YAML file.
func Load(spec string) (Plan, error) {
	if spec == "default" {
		return DefaultPlan(0.05), nil
	}
	b, err := os.ReadFile(spec)
	if err != nil {
		return Plan{}, fmt.Errorf("fault plan: %w", err)
	}
	return ParsePlan(b)
}

// Check reports every rule that cannot be applied.
func (p Plan) Check() error {
	var errs []string
	for i, r := range p.Rules {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Sprintf("rules[%d]: "+format, append([]any{i}, a...)...))
		}
		if !slices.Contains(Kinds(), r.Kind) {
			bad("kind %q: want one of %v", r.Kind, Kinds())
		}
		if (r.Rate > 0) == (r.Every > 0) || r.Rate < 0 || r.Rate > 1 || r.Every < 0 {
			bad("set exactly one of rate (0..1] and every (≥ 1)")
		}
		if r.Kind == Latency && r.LatencyMs <= 0 {
			bad("a latency fault needs latency_ms ≥ 1")
		}
		if r.Kind == Conflict && r.Service != "dynamodb" {
			bad("conflicts are DynamoDB's: service must be dynamodb, got %q", r.Service)
		}
		for _, g := range []string{r.Service, r.Action, r.Function} {
			if _, err := path.Match(g, ""); err != nil {
				bad("bad glob %q", g)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("fault plan: %s", strings.Join(errs, "; "))
	}
	return nil
}

// DefaultPlan covers every AWS call on the webhook path with every kind, each at rate: the
// store's writes and reads, the queue's sends, receives and deletes, the alert topic's
// publish and the secrets' reads; conflicts on DynamoDB's transactions, and lost responses
// on ingest's put and send and on accounting's transaction, the calls whose retry must be
// absorbed.
func DefaultPlan(rate float64) Plan {
	var rules []Rule
	for _, svc := range []string{"dynamodb", "sqs", "sns", "secretsmanager"} {
		rules = append(rules,
			Rule{Service: svc, Kind: Throttle, Rate: rate},
			Rule{Service: svc, Kind: ServerError, Rate: rate},
			Rule{Service: svc, Kind: Latency, Rate: rate, LatencyMs: 200})
	}
	rules = append(rules,
		Rule{Service: "dynamodb", Action: "TransactWriteItems", Kind: Conflict, Rate: rate},
		Rule{Service: "dynamodb", Action: "PutItem", Kind: LostResponse, Rate: rate},
		Rule{Service: "dynamodb", Action: "TransactWriteItems", Kind: LostResponse, Rate: rate},
		Rule{Service: "sqs", Action: "SendMessage", Kind: LostResponse, Rate: rate})
	// The rules are tried in order and each draws: put the narrow ones first, so that the
	// service-wide ones do not shadow them.
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Action != "" && rules[j].Action == "" })
	return Plan{Seed: 1, Rules: rules}
}

// Fault is one decision to inject.
type Fault struct {
	// Kind is what to inject; Latency the delay of a latency fault.
	Kind    Kind
	Latency time.Duration
	// Rule is the index of the rule that decided it.
	Rule int
}

// Injector decides, call by call, whether to inject a fault. It is safe for concurrent
// use; the same plan and the same sequence of calls give the same decisions.
type Injector struct {
	plan  Plan
	mu    sync.Mutex
	rng   *rand.Rand
	seen  []int
	done  []int
	kinds map[Kind]int
}

// NewInjector returns an injector for a checked plan.
func NewInjector(p Plan) *Injector {
	return &Injector{plan: p, rng: rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15)),
		seen: make([]int, len(p.Rules)), done: make([]int, len(p.Rules)), kinds: map[Kind]int{}}
}

// Decide says whether the call service:operation made by function gets a fault. A nil
// Injector injects nothing.
func (in *Injector) Decide(service, operation, function string) (Fault, bool) {
	if in == nil {
		return Fault{}, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, r := range in.plan.Rules {
		if !match(r.Service, service) || !match(r.Action, operation) || !match(r.Function, function) {
			continue
		}
		if r.Times > 0 && in.done[i] >= r.Times {
			continue
		}
		in.seen[i]++
		hit := r.Every > 0 && in.seen[i]%r.Every == 0 || r.Rate > 0 && in.rng.Float64() < r.Rate
		if !hit {
			continue
		}
		in.done[i]++
		in.kinds[r.Kind]++
		return Fault{Kind: r.Kind, Latency: time.Duration(r.LatencyMs) * time.Millisecond, Rule: i}, true
	}
	return Fault{}, false
}

// Injected counts the faults injected so far, by kind.
func (in *Injector) Injected() map[Kind]int {
	out := map[Kind]int{}
	if in == nil {
		return out
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for k, n := range in.kinds {
		out[k] = n
	}
	return out
}

// match reports whether glob (empty: anything) matches s, ignoring case.
func match(glob, s string) bool {
	if glob == "" || glob == "*" {
		return true
	}
	ok, _ := path.Match(strings.ToLower(glob), strings.ToLower(s))
	return ok
}
