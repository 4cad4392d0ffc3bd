package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/payhook/payhook/internal/cost"
)

// Results is everything one bench run measured; docs/bench.json holds it (cost reads the
// Measured part).
type Results struct {
	cost.Measured
	Mode     string           `json:"mode"`
	CPUs     int              `json:"cpus"`
	Python   string           `json:"python"`
	Launches int              `json:"launches"`
	Warm     int              `json:"warm_invocations"`
	Sizes    map[string]int64 `json:"arm64_sizes"`
	Synth    []SynthTiming    `json:"synth"`
	Load     LoadFigures      `json:"load"`
	// Costs are the monthly estimates of prod and of the reference design at a few rates.
	Costs []costPoint `json:"costs"`
}

type costPoint struct {
	Rate      float64 `json:"webhooks_per_month"`
	Payhook   float64 `json:"payhook_usd"`
	Reference float64 `json:"reference_usd"`
}

// services are payhook's functions in the order the tables list them.
var services = []string{"ingest", "accounting", "notifyfailures", "reconciler"}

// write saves bench.json, bench.md and bench.png in dir and returns the markdown.
func write(dir string, r Results, costMD string) (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	if err := chart(filepath.Join(dir, "bench.png"), r); err != nil {
		return "", err
	}
	md := markdown(r, costMD)
	return md, os.WriteFile(filepath.Join(dir, "bench.md"), []byte(md), 0o644)
}

func markdown(r Results, costMD string) string {
	var b bytes.Buffer
	floor := r.Functions["floor"]
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `go run mage.go bench` on %s (%s mode: %d cold launches per function, %d warm invocations), "+
		"on a %d-CPU machine; medians unless a column says p90. Figures from one run, compared within it.\n\n",
		r.Date, r.Mode, r.Launches, r.Warm, r.CPUs)
	fmt.Fprint(&b, "## Cold start, warm latency, memory and size\n\nEach function is built for the host and started under the AWS Lambda Runtime Interface Emulator against the local emulators "+
		"(DynamoDB Local, fauxqs, the Secrets Manager endpoint); INIT is the emulator's own `INIT REPORT`, exec→first response includes starting the process. "+
		"The floor is a bare aws-lambda-go function under the same emulator. Size is the stripped linux/arm64 bootstrap that is deployed.\n\n")
	fmt.Fprintln(&b, "| function | INIT p50 (ms) | INIT p90 (ms) | exec→first response (ms) | warm invoke (ms) | max RSS (MB) | arm64 size (MB) | INIT vs floor |")
	fmt.Fprintln(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, name := range append(append([]string{}, services...), "floor") {
		f := r.Functions[name]
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.2f | %.1f | %.1f | %s |\n", name, f.InitMs, f.InitP90Ms, f.FirstMs, f.WarmMs, f.RSSMB,
			float64(r.Sizes[name])/1e6, ratio(f.InitMs, floor.InitMs))
	}
	ref, ingest := r.Reference, r.Functions["ingest"]
	fmt.Fprintf(&b, "\n## Against the reference design\n\nThe reference design's ingest module (%s, Debian's boto3; its table resource and SQS client created at import, "+
		"as the reference does), started in a fresh interpreter %d times (exec to exit of `import reference_ingest`), and its handler called %d times "+
		"in one interpreter against the same emulators.\n\n", r.Python, r.Launches, r.Warm)
	fmt.Fprintln(&b, "| | payhook ingest (Go) | reference ingest (Python) | ratio |")
	fmt.Fprintln(&b, "| --- | ---: | ---: | ---: |")
	fmt.Fprintf(&b, "| start (INIT; interpreter exec to imported), p50 ms | %.1f | %.1f | %s |\n", ingest.InitMs, ref.InitMs, ratio(ingest.InitMs, ref.InitMs))
	fmt.Fprintf(&b, "| start, p90 ms | %.1f | %.1f | %s |\n", ingest.InitP90Ms, ref.InitP90Ms, ratio(ingest.InitP90Ms, ref.InitP90Ms))
	fmt.Fprintf(&b, "| peak memory after the warm calls (MB) | %.1f | %.1f | %s |\n", ingest.RSSMB, ref.RSSMB, ratio(ingest.RSSMB, ref.RSSMB))
	handler := max(0, ingest.WarmMs-floor.WarmMs)
	fmt.Fprintf(&b, "| warm handler (ms) | %.2f | %.2f | %s |\n", handler, ref.WarmMs, ratio(handler, ref.WarmMs))
	fmt.Fprintf(&b, "\nThe Go handler's time is its warm invocation less the floor's (the emulator's own round trip); the Python handler is timed in process. "+
		"payhook's warm ingest does more: a signature check, strict parsing, a conditional put, the send and the outbox update, against the reference's put and send.\n")
	fmt.Fprint(&b, "\n## Synthesis\n\nThe CDK app in one process (jsii start, build, synth) for copies of `envs/dev.yaml`:\n\n| envs | median (s) |\n| ---: | ---: |\n")
	for _, s := range r.Synth {
		fmt.Fprintf(&b, "| %d | %.2f |\n", s.Envs, s.Median)
	}
	if n := len(r.Synth); n >= 2 && r.Synth[n-1].Envs > r.Synth[0].Envs {
		fmt.Fprintf(&b, "\nIncrement per env: %.2f s.\n", (r.Synth[n-1].Median-r.Synth[0].Median)/float64(r.Synth[n-1].Envs-r.Synth[0].Envs))
	}
	l := r.Load
	fmt.Fprintf(&b, "\n## Local end to end\n\n`loadtest` against `mage local` (%d notifications, 20%% sent twice concurrently): %.1f req/s, p50 %.1f ms, p99 %.1f ms, lost %d, double-counted %d.\n",
		l.Requests, l.Throughput, l.P50Ms, l.P99Ms, l.Lost, l.Double)
	fmt.Fprintf(&b, "\n## Cost\n\n![cold start and cost](bench.png)\n\n%s", costMD)
	return b.String()
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// chart draws the cold starts (left) and the monthly costs by rate (right).
func chart(path string, r Results) error {
	cold := plot.New()
	cold.Title.Text = "Start (INIT / import), ms, p50"
	names := append(append([]string{}, services...), "floor", "reference (Python)")
	values := plotter.Values{}
	for _, n := range names[:len(names)-1] {
		values = append(values, r.Functions[n].InitMs)
	}
	values = append(values, r.Reference.InitMs)
	bars, err := plotter.NewBarChart(values, vg.Points(18))
	if err != nil {
		return err
	}
	bars.Color = color.RGBA{R: 60, G: 110, B: 180, A: 255}
	cold.Add(bars)
	cold.NominalX(names...)
	cold.X.Tick.Label.Rotation = 0.6
	cold.X.Tick.Label.XAlign, cold.X.Tick.Label.YAlign = draw.XRight, draw.YCenter

	money := plot.New()
	money.Title.Text = "Monthly cost, USD (prod vs reference)"
	sort.Slice(r.Costs, func(i, j int) bool { return r.Costs[i].Rate < r.Costs[j].Rate })
	var ph, rf plotter.Values
	var labels []string
	for _, c := range r.Costs {
		ph, rf = append(ph, c.Payhook), append(rf, c.Reference)
		labels = append(labels, fmt.Sprintf("%gM/month", c.Rate/1e6))
	}
	a, err := plotter.NewBarChart(ph, vg.Points(14))
	if err != nil {
		return err
	}
	b, err := plotter.NewBarChart(rf, vg.Points(14))
	if err != nil {
		return err
	}
	a.Color = color.RGBA{R: 60, G: 110, B: 180, A: 255}
	a.Offset = -vg.Points(7)
	b.Color = color.RGBA{R: 220, G: 120, B: 50, A: 255}
	b.Offset = vg.Points(7)
	money.Add(a, b)
	money.Legend.Add("payhook prod", a)
	money.Legend.Add("reference design", b)
	money.Legend.Top, money.Legend.Left = true, true
	money.NominalX(labels...)

	img := vgimg.New(vg.Points(900), vg.Points(360))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(20), PadY: vg.Points(10), PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{cold, money}}, tiles, dc)
	cold.Draw(canvases[0][0])
	money.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(f); err != nil {
		return err
	}
	return f.Close()
}
