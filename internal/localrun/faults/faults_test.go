package faults_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun/faults"
)

func TestParsePlanRefusesWhatCannotBeApplied(t *testing.T) {
	p, err := faults.ParsePlan([]byte("seed: 7\nrules:\n  - {service: dynamodb, action: PutItem, kind: lost-response, every: 3}\n"))
	require.NoError(t, err)
	assert.Equal(t, uint64(7), p.Seed)
	for _, c := range []struct{ yaml, want string }{
		{"rules: [{service: sqs, kind: conflict, rate: 0.1}]", "conflicts are DynamoDB's"},
		{"rules: [{service: sqs, kind: latency, rate: 0.1}]", "latency_ms"},
		{"rules: [{service: sqs, kind: throttle, rate: 0.1, every: 2}]", "exactly one of rate"},
		{"rules: [{service: sqs, kind: throttle}]", "exactly one of rate"},
		{"rules: [{service: sqs, kind: throttle, rate: 2}]", "exactly one of rate"},
		{"rules: [{service: sqs, kind: boom, rate: 0.1}]", `kind "boom"`},
		{"rules: [{service: '[', kind: throttle, rate: 0.1}]", "bad glob"},
		{"rules: [{service: sqs, kind: throttle, rate: 0.1, colour: red}]", "colour"},
	} {
		_, err := faults.ParsePlan([]byte(c.yaml))
		require.Error(t, err, c.yaml)
		assert.Contains(t, err.Error(), c.want, c.yaml)
	}
	require.NoError(t, faults.DefaultPlan(0.05).Check())
}

func TestInjectorIsDeterministicAndRespectsItsRules(t *testing.T) {
	plan := faults.Plan{Seed: 42, Rules: []faults.Rule{
		{Service: "dynamodb", Action: "PutItem", Function: "Ingest*", Kind: faults.LostResponse, Every: 3, Times: 2},
		{Service: "sqs", Kind: faults.Throttle, Rate: 0.25},
	}}
	decide := func() []string {
		in := faults.NewInjector(plan)
		var out []string
		for i := 0; i < 400; i++ {
			f, ok := in.Decide("sqs", "SendMessage", "IngestFn")
			if ok {
				out = append(out, string(f.Kind))
			} else {
				out = append(out, "-")
			}
		}
		return out
	}
	a, b := decide(), decide()
	assert.Equal(t, a, b, "the same seed, the same decisions")
	hits := 0
	for _, d := range a {
		if d == "throttle" {
			hits++
		}
	}
	assert.InDelta(t, 100, hits, 30, "about a quarter of 400")

	in := faults.NewInjector(plan)
	var lost []int
	for i := 1; i <= 12; i++ {
		if f, ok := in.Decide("DynamoDB", "PutItem", "IngestFn"); ok && f.Kind == faults.LostResponse {
			lost = append(lost, i)
		}
		_, ok := in.Decide("dynamodb", "PutItem", "AccountingFn")
		assert.False(t, ok, "another function's calls are not matched")
	}
	assert.Equal(t, []int{3, 6}, lost, "every third call, twice at most")
	assert.Equal(t, map[faults.Kind]int{faults.LostResponse: 2}, in.Injected())
	var none *faults.Injector
	_, ok := none.Decide("sqs", "SendMessage", "x")
	assert.False(t, ok, "a nil injector injects nothing")
}
