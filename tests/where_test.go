package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/internal/cfn"
)

// TestWhereIsWhatIsSynthesized: `go run mage.go where` names each deployable env's stack,
// account and region as the synthesized assembly has them.
func TestWhereIsWhatIsSynthesized(t *testing.T) {
	ps, err := app.Where("../envs")
	require.NoError(t, err)
	stacks, err := cfn.Stacks(synthesized.outdir)
	require.NoError(t, err)
	byName := map[string]cfn.Stack{}
	for _, st := range stacks {
		byName[st.StackName] = st
	}
	checked := 0
	for _, p := range ps {
		if p.Account == "local" {
			continue
		}
		st, ok := byName[p.Stack]
		require.True(t, ok, "stack %s of %s is in the assembly", p.Stack, p.Env)
		assert.Equal(t, p.Account, st.Account, p.Env)
		assert.Equal(t, p.Region, st.Region, p.Env)
		checked++
	}
	assert.Equal(t, 3, checked, "dev, staging and prod")
}
