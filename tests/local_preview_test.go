package tests

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/payhook"
)

// TestLocalPreviewRunsBesideLocal: the preview copy local-pr-1 (`go run mage.go local
// SUFFIX=pr-1`) runs beside the shared local stack on one machine, with its own endpoint,
// emulators and table: one transaction id posted to both is accounted once in each, and
// neither sees the other's.
func TestLocalPreviewRunsBesideLocal(t *testing.T) {
	base := startLocal(t)
	st := synthesized.built.Previews["local-pr-1"]
	require.NotNil(t, st, "local-pr-1 is synthesized")
	preview, err := localrun.Start(context.Background(), localrun.Config{
		Template: filepath.Join(*st.Outdir(), *st.Payments.TemplateFile()),
		App:      payhook.App{},
		WorkDir:  t.TempDir(),
		Root:     "..",
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(preview.Stop)

	assert.Equal(t, "payhook-local-pr-1", preview.State().Table)
	assert.Equal(t, "payhook-local", base.State().Table)
	assert.NotEqual(t, base.State().Endpoint, preview.State().Endpoint)
	assert.NotEqual(t, base.State().Emulators, preview.State().Emulators)

	id := "side-by-side-" + runID()
	const currency = "HUF"
	var before [2][2]int64
	for i, l := range []*localrun.Local{base, preview} {
		before[i][0], before[i][1] = total(t, l, "legacy", currency)
	}
	for _, l := range []*localrun.Local{base, preview} {
		s := newSender(t, l)
		code, resp := s.post(s.provider("legacy"), body("legacy", id, "7.00", currency))
		require.Equal(t, 200, code, "%v", resp)
	}
	for i, l := range []*localrun.Local{base, preview} {
		waitStatus(t, l, "legacy", id, "accounted", 60*time.Second)
		sum, count := total(t, l, "legacy", currency)
		assert.Equal(t, before[i][0]+700, sum, "stack %d counted the notification once", i)
		assert.Equal(t, before[i][1]+1, count, "stack %d", i)
	}
}
