// Command payhook-local runs a synthesized payhook stack on this machine: the emulators
// (DynamoDB Local, fauxqs for SQS and SNS, a Secrets Manager endpoint), provisioned from
// the CloudFormation template, every Lambda function under the Lambda Runtime Interface
// Emulator as a host build of its service, the REST API as API Gateway serves it, the SQS
// event source mappings and the schedules. It is what `go run mage.go local` runs.
//
// Usage:
//
//	payhook-local -template cdk.out/assembly-payhook-local
//
// (a cloud assembly directory with one stack, or the stack's .template.json).
//
// It prints the endpoint, the API key, each provider's local signing secret and
// ready-to-paste curl commands, and writes the same facts to the state file (default
// .payhook/local.json) for the smoke test, the load test and replay. Ctrl-C (SIGINT) or
// SIGTERM stops every process it started; the state file then keeps the API key and
// the secrets (without pids), which the next start reuses, as it reuses the installed RIE
// and the build cache.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/payhook/payhook/internal/contract"

	"github.com/payhook/payhook/internal/localrun"
	"github.com/payhook/payhook/internal/localrun/faults"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/payhook"
	"github.com/payhook/payhook/internal/localrun/procs"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/localstate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "iam-report" {
		return iamReport(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("payhook-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	template := fs.String("template", "", "synthesized CloudFormation template of the stack, or its cloud assembly directory (required)")
	statePath := fs.String("state", localstate.DefaultPath, "state file written for tools")
	workdir := fs.String("workdir", ".payhook", "directory for the RIE, the built functions and the logs")
	region := fs.String("region", "", "AWS region the stack is resolved in (default: the cloud assembly's, else us-east-1)")
	addr := fs.String("addr", "", "API listen address (default: the previous run's port if free, else a free port on 127.0.0.1)")
	maxInstances := fs.Int("max-instances", 4, "most RIE processes (concurrent invocations) per function")
	pollers := fs.Int("pollers", 2, "batches in flight per SQS event source mapping")
	logs := fs.Bool("logs", false, "also print the functions' output here (it always goes to <workdir>/logs)")
	verbose := fs.Bool("v", false, "print every request, batch and schedule event")
	appName := fs.String("app", "payhook", "what the runner knows of the application: \"payhook\" (payhook's stack: its builds, providers and secrets) or \"generic\" (any stack: each function runs the bootstrap of its code asset, built for this machine)")
	faultSpec := fs.String("faults", os.Getenv("PAYHOOK_FAULTS"), "inject faults into the functions' AWS calls: \"default\" (5% of every kind on every call of the webhook path) or a plan file (default $PAYHOOK_FAULTS)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: payhook-local -template PATH [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *template == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	app, err := appNamed(*appName)
	if err != nil {
		fmt.Fprintln(stderr, "payhook-local:", err)
		return 2
	}
	iamOff, err := iamMode(os.Getenv("PAYHOOK_IAM"))
	if err != nil {
		fmt.Fprintln(stderr, "payhook-local:", err)
		return 2
	}
	var plan *faults.Plan
	if *faultSpec != "" {
		p, err := faults.Load(*faultSpec)
		if err != nil {
			fmt.Fprintln(stderr, "payhook-local:", err)
			return 2
		}
		plan = &p
	}
	if err := start(config{template: *template, state: *statePath, workdir: *workdir, region: *region, addr: *addr,
		maxInstances: *maxInstances, pollers: *pollers, logs: *logs, verbose: *verbose, iamOff: iamOff, faults: plan, app: app}, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "payhook-local:", err)
		return 1
	}
	return 0
}

type config struct {
	template, state, workdir, region, addr string
	maxInstances, pollers                  int
	logs, verbose, iamOff                  bool
	faults                                 *faults.Plan
	app                                    localrun.App
}

// appNamed is the App the -app flag names.
func appNamed(name string) (localrun.App, error) {
	switch name {
	case "payhook":
		return payhook.App{}, nil
	case "generic":
		return localrun.DefaultApp{}, nil
	}
	return nil, fmt.Errorf("-app %q: want payhook or generic", name)
}

func start(c config, stdout, stderr io.Writer) error {
	prev, err := localrun.ReadState(c.state)
	if err != nil {
		fmt.Fprintf(stderr, "ignoring the previous state: %v\n", err)
		prev = nil
	}
	if err := checkPrevious(prev, stderr); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(stderr, "Starting %s\n", c.template)
	local, err := localrun.Start(ctx, runConfig(c, prev, stderr))
	if err != nil {
		return err
	}
	state := local.State()
	if err := localrun.WriteState(c.state, state); err != nil {
		local.Stop()
		return err
	}
	_, generic := c.app.(localrun.DefaultApp)
	printSummary(stdout, local, state, c.state, !generic)

	seen := pidSet(state.Pids)
	refresh := time.NewTicker(2 * time.Second)
	defer refresh.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-refresh.C:
			// The function pools grow on demand: keep the pids in the state current.
			pids := local.Pids()
			if !reflect.DeepEqual(pids, state.Pids) {
				state.Pids = pids
				for p := range pidSet(pids) {
					seen[p] = true
				}
				if err := localrun.WriteState(c.state, state); err != nil {
					fmt.Fprintln(stderr, "payhook-local:", err)
				}
			}
		}
	}
	stop()
	fmt.Fprintln(stderr, "\nStopping...")
	for p := range pidSet(local.Pids()) {
		seen[p] = true
	}
	began := time.Now()
	local.Stop()
	state.Running = false
	state.Pids = nil
	if err := localrun.WriteState(c.state, state); err != nil {
		fmt.Fprintln(stderr, "payhook-local:", err)
	}
	var left []int
	for p := range seen {
		if p != os.Getpid() && procs.Alive(p) {
			left = append(left, p)
		}
	}
	sort.Ints(left)
	if len(left) > 0 {
		return fmt.Errorf("processes still running after stop: %v", left)
	}
	fmt.Fprintf(stderr, "Stopped in %s; no process left.\n", time.Since(began).Round(10*time.Millisecond))
	return nil
}

// runConfig is the local runner's configuration: the App, the flags, and the
// previous run's state to reuse.
func runConfig(c config, prev *localrun.State, stderr io.Writer) localrun.Config {
	cfg := localrun.Config{
		Template: c.template, App: c.app, WorkDir: c.workdir, Region: c.region, APIAddr: c.addr,
		MaxInstances: c.maxInstances, PollerConcurrency: c.pollers, Previous: prev, Progress: stderr,
		IAMOff: c.iamOff, Faults: c.faults,
	}
	if c.logs {
		cfg.FunctionOutput = stderr
	}
	if c.verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

// checkPrevious refuses to start while another payhook-local runs with the same state
// file, and stops what a crashed previous run may have left (only processes it recorded
// whose command line is still one of its own kinds).
func checkPrevious(prev *localrun.State, stderr io.Writer) error {
	if prev == nil || !prev.Running || len(prev.Pids) == 0 {
		return nil
	}
	for _, p := range prev.Pids["payhook-local"] {
		if p != os.Getpid() && procs.Alive(p) && strings.Contains(cmdline(p), "payhook-local") {
			return fmt.Errorf("payhook-local is already running (pid %d); stop it first", p)
		}
	}
	for role, pids := range prev.Pids {
		if role == "payhook-local" {
			continue
		}
		for _, p := range pids {
			cl := cmdline(p)
			if procs.Alive(p) && (strings.Contains(cl, "aws-lambda-rie") || strings.Contains(cl, "bootstrap") ||
				strings.Contains(cl, "DynamoDBLocal") || strings.Contains(cl, "fauxqs")) {
				fmt.Fprintf(stderr, "stopping pid %d (%s) left by a previous run\n", p, role)
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	return nil
}

func pidSet(m map[string][]int) map[int]bool {
	out := map[int]bool{}
	for _, ps := range m {
		for _, p := range ps {
			out[p] = true
		}
	}
	return out
}

func cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(string(b), "\x00", " ")
}

// printSummary prints what a user needs to send a first webhook; payhookTools adds the
// hints at payhook's own mage targets, which another application does not have.
func printSummary(w io.Writer, l *localrun.Local, s *localrun.State, statePath string, payhookTools bool) {
	fmt.Fprintf(w, "\npayhook is running locally: stack %s (%s), ready in %s\n\n", s.Stack, s.Region, l.Startup.Round(10*time.Millisecond))
	printEndpoint(w, s)

	section := func(title string, rows [][]string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(w, "\n  %s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintf(tw, "    %s\n", strings.Join(r, "\t"))
		}
		tw.Flush()
	}
	var rows [][]string
	for _, f := range l.Stack.Functions {
		fn := l.Functions[f.LogicalID]
		id := f.LogicalID
		if f.Service == "" {
			id = "" // serviceOf names it
		}
		rows = append(rows, []string{serviceOf(f), id, fmt.Sprintf("%d MB", f.MemoryMB), f.Timeout.String(),
			fmt.Sprintf("up to %d environments", fn.MaxInstances())})
	}
	section("Functions (output in "+rel(s.LogDir)+"/<logical id>.log)", rows)
	rows = nil
	for _, es := range l.Stack.EventSources {
		f, _ := l.Stack.Function(es.Function)
		opts := fmt.Sprintf("batch %d, window %s", es.BatchSize, es.Window)
		if es.ReportBatchItemFailures {
			opts += ", ReportBatchItemFailures"
		}
		rows = append(rows, []string{es.Queue, "→ " + serviceOf(f), opts})
	}
	section("SQS event sources", rows)
	rows = nil
	for _, sc := range l.Stack.Schedules {
		f, _ := l.Stack.Function(sc.Function)
		rows = append(rows, []string{sc.LogicalID, "→ " + serviceOf(f), sc.Expression})
	}
	section("Schedules", rows)
	iamRow := []string{"enforced", "each function signs with its own key; a call its role does not allow is refused as AWS refuses it"}
	if l.Config.IAMOff {
		iamRow = []string{"OFF", "PAYHOOK_IAM=off: denied calls go through and are only recorded"}
	}
	iamTitle := "IAM (calls in " + rel(filepath.Join(l.Config.WorkDir, localrun.CallsFile))
	if payhookTools {
		iamTitle += "; `go run mage.go iam:report` after a run"
	}
	section(iamTitle+")", [][]string{iamRow})
	section("Emulators", [][]string{
		{"DynamoDB Local", s.Emulators.DynamoDB},
		{"fauxqs (SQS, SNS)", s.Emulators.SQS},
		{"Secrets Manager", s.Emulators.SecretsManager},
	})

	if s.Endpoint != "" {
		printCurls(w, s)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, provision.FormatUnsupported(s.Unsupported))
	use := ""
	if payhookTools {
		use = " (for the smoke test, the load test and replay)"
	}
	fmt.Fprintf(w, "\nState: %s%s\nCtrl-C stops everything.\n", statePath, use)
}

// printEndpoint prints the endpoint and each provider with its secret and API key.
func printEndpoint(w io.Writer, s *localrun.State) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if s.Endpoint != "" {
		fmt.Fprintf(tw, "  Endpoint\tPOST %s\n", s.Endpoint)
	}
	for i, p := range s.Providers {
		label := ""
		if i == 0 {
			label = "Providers"
		}
		secret := p.Secret
		if secret == "" {
			secret = "(unsigned)"
		}
		key := "API key " + p.APIKey
		if p.APIKey == "" {
			key = "keyless: POST " + s.Endpoint + "/" + p.Name
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", label, p.Name, p.Scheme, secret, key)
	}
	tw.Flush()
}

// serviceOf names a function in the summary: its service (payhook's), else its logical id.
func serviceOf(f lambdarie.FunctionSpec) string {
	if f.Service != "" {
		return f.Service
	}
	return f.LogicalID
}

func rel(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// printCurls prints a curl per provider: plain for an unsigned provider, and a bash
// one-liner that signs with openssl for the signed schemes. A provider that posts Stripe
// events gets a signed payment_intent.succeeded on its own route.
func printCurls(w io.Writer, s *localrun.State) {
	curl := func(p localrun.StateProvider, own bool) string {
		url := s.Endpoint
		if own {
			url += "/" + p.Name
		}
		c := fmt.Sprintf("curl -sS -X POST '%s'", url)
		if p.APIKey != "" {
			c += fmt.Sprintf(" -H 'x-api-key: %s'", p.APIKey)
		}
		return c + " -H 'Content-Type: application/json'"
	}
	body := func(p localrun.StateProvider, n int) string {
		return fmt.Sprintf(`{"transaction_id":"tx_local_%d","amount":"12.34","currency":"USD","provider":"%s"}`, n, p.Name)
	}
	for i, p := range s.Providers {
		if p.Scheme == payhook.SchemeNone {
			fmt.Fprintf(w, "\nSend a webhook (provider %q is unsigned; its API key authenticates it):\n  %s -d '%s'\n", p.Name, curl(p, false), body(p, i+1))
			break
		}
	}
	for i, p := range s.Providers {
		format := formatOf(p)
		url := curl(p, format != "" || p.Keyless)
		switch {
		case format == contract.FormatStripe:
			fmt.Fprintf(w, "\nProvider %q posts Stripe events to %s/%s (keyless: Stripe cannot send an API key). A signed payment\n"+
				"(Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\"> keyed with the whole secret; bash + openssl):\n",
				p.Name, s.Endpoint, p.Name)
			event := fmt.Sprintf(`{"id":"evt_local_%d","object":"event","type":"payment_intent.succeeded","livemode":%t,`+
				`"data":{"object":{"id":"pi_local_%d","object":"payment_intent","amount_received":1234,"currency":"usd"}}}`, i+1, s.Live, i+1)
			fmt.Fprintf(w, "  BODY='%s'; TS=$(date +%%s); "+
				"SIG=$(printf '%%s' \"$TS.$BODY\" | openssl dgst -sha256 -hmac '%s' | sed 's/^.*= //'); "+
				"%s -H \"Stripe-Signature: t=$TS,v1=$SIG\" -d \"$BODY\"\n", event, p.Secret, url)
		case format != "":
			fmt.Fprintf(w, "\nProvider %q posts %s envelopes to %s/%s (signed like Standard Webhooks below);\n"+
				"`go run mage.go smoke` sends it a payment, its redelivery and a refund.\n", p.Name, format, s.Endpoint, p.Name)
		case p.Scheme == payhook.SchemeStandardWebhooks:
			key := strings.TrimPrefix(p.Secret, "whsec_")
			fmt.Fprintf(w, "\nProvider %q signs with Standard Webhooks: webhook-signature is v1,<base64 HMAC-SHA256 of\n"+
				"\"<webhook-id>.<webhook-timestamp>.<body>\"> keyed with the base64-decoded secret after whsec_ (bash + openssl):\n", p.Name)
			fmt.Fprintf(w, "  BODY='%s'; TS=$(date +%%s); ID=msg_$TS; "+
				"SIG=$(printf '%%s' \"$ID.$TS.$BODY\" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%%s' '%s' | base64 -d | od -An -tx1 | tr -d ' \\n') -binary | base64); "+
				"%s -H \"webhook-id: $ID\" -H \"webhook-timestamp: $TS\" -H \"webhook-signature: v1,$SIG\" -d \"$BODY\"\n",
				body(p, i+1), key, url)
		case p.Scheme == payhook.SchemeStripe:
			fmt.Fprintf(w, "\nProvider %q signs like Stripe: Stripe-Signature is t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">\n"+
				"keyed with the whole secret (bash + openssl):\n", p.Name)
			fmt.Fprintf(w, "  BODY='%s'; TS=$(date +%%s); "+
				"SIG=$(printf '%%s' \"$TS.$BODY\" | openssl dgst -sha256 -hmac '%s' | sed 's/^.*= //'); "+
				"%s -H \"Stripe-Signature: t=$TS,v1=$SIG\" -d \"$BODY\"\n",
				body(p, i+1), p.Secret, url)
		}
	}
	if len(s.Providers) > 0 {
		fmt.Fprintln(w, "\n`go run mage.go smoke` sends a signed webhook of every scheme and format and checks the whole path.")
	}
}

// formatOf is the payload format a provider posts: "" for payhook's flat notification.
func formatOf(p localrun.StateProvider) string {
	var f contract.PayloadFormat
	if len(p.Format) == 0 || json.Unmarshal(p.Format, &f) != nil {
		return ""
	}
	return f.Format
}

// iamMode reads PAYHOOK_IAM: unset, "on" or "enforce" enforce the template's IAM; "off"
// only records the calls it would deny.
func iamMode(v string) (off bool, err error) {
	switch strings.ToLower(v) {
	case "", "on", "enforce":
		return false, nil
	case "off":
		return true, nil
	}
	return false, fmt.Errorf("PAYHOOK_IAM=%q: want on (the default) or off", v)
}

// iamReport prints the least-privilege report of the last local run: per function, the
// actions used, those granted but never used, and the denied calls. It exits 1 when a
// function has an unused, unjustified grant or a denied call.
func iamReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("payhook-local iam-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workdir := fs.String("workdir", ".payhook", "work directory of the local run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	unclean, err := localrun.LeastPrivilege(*workdir, stdout)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "payhook-local iam-report:", err, "(run `go run mage.go local` first)")
		return 1
	case len(unclean) > 0:
		return 1
	}
	return 0
}
