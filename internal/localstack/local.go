package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/secretsemu"
)

// Config configures Start.
type Config struct {
	// Template is the synthesized CloudFormation template, or a cloud assembly
	// directory with a single stack (required).
	Template string
	// WorkDir holds the RIE, the built functions and the logs (default .payhook in the
	// project root).
	WorkDir string
	// Root is the project root (default: found from the working directory).
	Root string
	// Region is AWS::Region (default: the template's region from its cloud assembly,
	// else us-east-1).
	Region string
	// APIAddr is where the first API listens (default: the previous run's port if it is
	// free, else a free port on 127.0.0.1). Further APIs get free ports.
	APIAddr string
	// MaxInstances caps the RIE processes per function (default 4).
	MaxInstances int
	// PollerConcurrency is the number of batches in flight per event source mapping
	// (default 2).
	PollerConcurrency int
	// Previous is the previous run's state: its API keys, provider secrets and API port
	// are reused.
	Previous *State
	// Progress receives one line per start-up step (nil discards them).
	Progress io.Writer
	// FunctionOutput, when set, also receives the functions' output, prefixed per function.
	FunctionOutput io.Writer
	// Log receives runtime events (requests, batches, schedules, emulator restarts); nil
	// writes JSON to <WorkDir>/logs/payhook-local.log and warnings to stderr.
	Log *slog.Logger
	// NoWatchdog disables restarting an emulator that exited.
	NoWatchdog bool
}

// Local is a running local stack: emulators, provisioned resources, functions, APIs,
// pollers and schedules.
type Local struct {
	// Config is the configuration it was started with (defaults filled in).
	Config Config
	// Stack is the provisioned stack.
	Stack *Stack
	// Endpoints are the emulators' URLs.
	Endpoints Endpoints
	// Clients are SDK clients on the emulators.
	Clients Clients
	// Functions are the running functions by logical id.
	Functions map[string]*Function
	// APIs are the running API servers.
	APIs []*APIServer
	// Pollers are the running event source mappings.
	Pollers []*Poller
	// Timings lists how long each start-up step took.
	Timings []StepTiming
	// StartedAt is when Start was called.
	StartedAt time.Time
	// Startup is how long Start took.
	Startup time.Duration

	log     *slog.Logger
	files   []*os.File
	dynamo  *emulators.Process
	queues  *emulators.Process
	secrets *secretsemu.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopMu  sync.Mutex
	stopped bool
}

// StepTiming is the duration of one start-up step.
type StepTiming struct {
	Step     string
	Duration time.Duration
}

// LogDir is where the function and emulator logs go.
func (c Config) LogDir() string { return filepath.Join(c.WorkDir, "logs") }

func (l *Local) progress(format string, args ...any) {
	if l.Config.Progress != nil {
		fmt.Fprintf(l.Config.Progress, format+"\n", args...)
	}
}

func (l *Local) step(name string, start time.Time) {
	l.Timings = append(l.Timings, StepTiming{Step: name, Duration: time.Since(start)})
}

// Start brings the template up locally: it starts the emulators, builds the services and
// the RIE (in parallel), provisions the emulators from the template, starts every
// function, API, event source mapping and schedule, and returns once all of them run.
// On error, whatever was started is stopped.
func Start(ctx context.Context, cfg Config) (l *Local, err error) {
	l = &Local{Config: cfg, StartedAt: time.Now(), Functions: map[string]*Function{}}
	defer func() {
		if err != nil {
			l.Stop()
			l = nil
		}
	}()
	if err := l.defaults(); err != nil {
		return l, err
	}
	cfg = l.Config
	if cfg.Template, err = ResolveTemplatePath(cfg.Template); err != nil {
		return l, err
	}
	l.Config.Template = cfg.Template
	tmpl, err := ParseTemplate(cfg.Template)
	if err != nil {
		return l, err
	}
	if cfg.Region == "" {
		cfg.Region = tmpl.Region
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	l.Config.Region = cfg.Region
	services, err := templateServices(tmpl, cfg.Root)
	if err != nil {
		return l, err
	}

	// Emulators, RIE and builds in parallel.
	t0 := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var rie string
	var bootstraps map[string]string
	tools, err := emulators.FindTools(cfg.Root)
	if err != nil {
		return l, err
	}
	logFile := func(name string) (*os.File, error) {
		f, err := os.OpenFile(filepath.Join(cfg.LogDir(), name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err == nil {
			mu.Lock()
			l.files = append(l.files, f)
			mu.Unlock()
		}
		return f, err
	}
	wg.Add(4)
	go func() {
		defer wg.Done()
		start := time.Now()
		f, err := logFile("dynamodb.log")
		if err != nil {
			fail(err)
			return
		}
		if l.dynamo, err = tools.StartDynamoDB(ctx, f); err != nil {
			fail(err)
			return
		}
		l.progress("  DynamoDB Local       %s (%s)", l.dynamo.URL, round(time.Since(start)))
	}()
	go func() {
		defer wg.Done()
		start := time.Now()
		f, err := logFile("fauxqs.log")
		if err != nil {
			fail(err)
			return
		}
		// Durable for the run, like SQS itself: an outage (the process killed and
		// restarted by the watchdog) keeps queued messages. Fresh on every start.
		dataDir := filepath.Join(cfg.WorkDir, "fauxqs-data")
		if err = os.RemoveAll(dataDir); err != nil {
			fail(err)
			return
		}
		if l.queues, err = tools.StartFauxqsDurable(ctx, f, dataDir); err != nil {
			fail(err)
			return
		}
		l.progress("  fauxqs (SQS, SNS)    %s (%s)", l.queues.URL, round(time.Since(start)))
	}()
	go func() {
		defer wg.Done()
		var err error
		if l.secrets, err = secretsemu.Start("127.0.0.1:0", cfg.Region, LocalAccount); err != nil {
			fail(err)
			return
		}
		l.progress("  Secrets Manager      %s", l.secrets.URL)
	}()
	go func() {
		defer wg.Done()
		start := time.Now()
		var err error
		if rie, err = InstallRIE(ctx, filepath.Join(cfg.WorkDir, "bin"), nil); err != nil {
			fail(err)
			return
		}
		l.progress("  Lambda RIE           %s (%s)", rie, round(time.Since(start)))
		start = time.Now()
		pkgs := map[string]string{}
		for _, s := range services {
			pkgs[s] = "./services/" + s
		}
		if bootstraps, err = BuildBootstraps(ctx, cfg.Root, filepath.Join(cfg.WorkDir, "functions"), pkgs, nil); err != nil {
			fail(err)
			return
		}
		l.progress("  functions built      %s (%s)", strings.Join(services, ", "), round(time.Since(start)))
	}()
	wg.Wait()
	l.step("emulators, RIE and builds", t0)
	if len(errs) > 0 {
		return l, errors.Join(errs...)
	}

	t0 = time.Now()
	l.Endpoints = Endpoints{Region: cfg.Region, DynamoDB: l.dynamo.URL, Queues: l.queues.URL, SecretsManager: l.secrets.URL}
	if l.Clients, err = NewClients(l.Endpoints); err != nil {
		return l, err
	}
	keys, secrets := cfg.Previous.reuse()
	if l.Stack, err = ProvisionWith(ctx, tmpl, l.Clients, Options{Region: cfg.Region, APIKeys: keys, ProviderSecrets: secrets}); err != nil {
		return l, err
	}
	l.step("provision", t0)
	l.progress("  provisioned          %d tables, %d queues, %d topics, %d secrets (%s)",
		len(l.Stack.Tables), len(l.Stack.Queues), len(l.Stack.Topics), len(l.Stack.Secrets), round(time.Since(t0)))

	t0 = time.Now()
	rt := &Runtime{RIE: rie, Env: l.Endpoints.SDKEnv(), LogDir: cfg.LogDir(), Console: cfg.FunctionOutput, MaxInstances: cfg.MaxInstances}
	for _, spec := range l.Stack.Functions {
		bootstrap, ok := bootstraps[spec.ServiceDir()]
		if !ok {
			// The service name was not a literal in the template: build it now.
			built, err := BuildBootstraps(ctx, cfg.Root, filepath.Join(cfg.WorkDir, "functions"),
				map[string]string{spec.ServiceDir(): "./services/" + spec.ServiceDir()}, nil)
			if err != nil {
				return l, fmt.Errorf("function %s: %w", spec.LogicalID, err)
			}
			bootstraps[spec.ServiceDir()] = built[spec.ServiceDir()]
			bootstrap = built[spec.ServiceDir()]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := rt.Start(ctx, spec, bootstrap)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			l.Functions[spec.LogicalID] = f
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return l, errors.Join(errs...)
	}
	l.step("functions", t0)

	t0 = time.Now()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	invokers := map[string]Invoker{}
	for id, f := range l.Functions {
		invokers[id] = f
	}
	for i, api := range l.Stack.APIs {
		srv := NewAPIServer(api, invokers, l.Stack.Region, l.Stack.Account)
		srv.Log = l.log
		addr := "127.0.0.1:0"
		if i == 0 {
			addr = cfg.APIAddr
		}
		if err := srv.Start(addr); err != nil {
			return l, err
		}
		l.APIs = append(l.APIs, srv)
	}
	for _, es := range l.Stack.EventSources {
		p := &Poller{Source: es, SQS: l.Clients.SQS, Function: l.Functions[es.Function], Concurrency: cfg.PollerConcurrency, Log: l.log}
		l.Pollers = append(l.Pollers, p)
		l.wg.Add(1)
		go func() { defer l.wg.Done(); _ = p.Run(runCtx) }()
	}
	for _, s := range l.Stack.Schedules {
		sch := &Scheduler{Schedule: s, Function: l.Functions[s.Function], Region: l.Stack.Region, Account: l.Stack.Account, Log: l.log}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			if err := sch.Run(runCtx); err != nil {
				l.log.Error("schedule stopped", "rule", s.LogicalID, "err", err.Error())
			}
		}()
	}
	if !cfg.NoWatchdog {
		l.wg.Add(1)
		go func() { defer l.wg.Done(); l.watchdog(runCtx) }()
	}
	l.step("APIs, pollers, schedules", t0)
	l.Startup = time.Since(l.StartedAt)
	return l, nil
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

func (l *Local) defaults() error {
	c := &l.Config
	if c.Template == "" {
		return errors.New("local stack: a template is required")
	}
	if c.Root == "" {
		root, err := emulators.ProjectRoot("")
		if err != nil {
			return err
		}
		c.Root = root
	}
	if c.WorkDir == "" {
		c.WorkDir = filepath.Join(c.Root, ".payhook")
	}
	abs, err := filepath.Abs(c.WorkDir)
	if err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	c.WorkDir = abs
	if c.APIAddr == "" {
		c.APIAddr = "127.0.0.1:0"
		if c.Previous != nil && len(c.Previous.APIs) > 0 {
			if u, err := url.Parse(c.Previous.APIs[0].URL); err == nil && u.Port() != "" {
				if ln, err := net.Listen("tcp", "127.0.0.1:"+u.Port()); err == nil {
					ln.Close()
					c.APIAddr = "127.0.0.1:" + u.Port()
				}
			}
		}
	}
	// Logs of the previous run are replaced.
	if err := os.RemoveAll(c.LogDir()); err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	if err := os.MkdirAll(c.LogDir(), 0o755); err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	l.log = c.Log
	if l.log == nil {
		f, err := os.OpenFile(filepath.Join(c.LogDir(), "payhook-local.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("local stack: %w", err)
		}
		l.files = append(l.files, f)
		l.log = slog.New(fanout{
			slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}),
			slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
		})
	}
	return nil
}

// templateServices returns the service directories the template's functions run (their
// PAYHOOK_SERVICE, where it is a literal), checking that each exists.
func templateServices(t *Template, root string) ([]string, error) {
	r := NewResolver(t, "")
	set := map[string]bool{}
	for _, id := range t.LogicalIDs(TypeFunction) {
		raw, ok := lookupPath(t.Resources[id].Properties, "Environment.Variables.PAYHOOK_SERVICE")
		if !ok {
			continue
		}
		s, err := r.ResolveString(raw)
		if err != nil || s == "" {
			continue
		}
		dir := strings.ReplaceAll(s, "-", "")
		if st, err := os.Stat(filepath.Join(root, "services", dir)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("function %s: PAYHOOK_SERVICE %q has no package services/%s", id, s, dir)
		}
		set[dir] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// watchdog restarts an emulator that exited (on the same port) and re-creates the
// stack's resources on it. fauxqs persists to the work directory, so queued messages
// survive, as they would an SQS outage; DynamoDB Local runs in memory, so its data is lost.
func (l *Local) watchdog(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, e := range []struct {
			p    *emulators.Process
			kind string
		}{{l.dynamo, EmulatorDynamoDB}, {l.queues, EmulatorQueues}} {
			if e.p == nil || e.p.Running() || ctx.Err() != nil {
				continue
			}
			l.log.Error("emulator exited; restarting it on the same port", "emulator", e.p.Name, "url", e.p.URL)
			if err := e.p.Restart(ctx); err != nil {
				l.log.Error("emulator restart failed", "emulator", e.p.Name, "err", err.Error())
				continue
			}
			if err := l.Stack.Reprovision(ctx, l.Clients, e.kind); err != nil {
				l.log.Error("re-provisioning after the restart failed", "emulator", e.p.Name, "err", err.Error())
				continue
			}
			l.log.Warn("emulator restarted and re-provisioned", "emulator", e.p.Name)
		}
	}
}

// Stop stops everything that Start started, in reverse order: schedules and pollers
// (a batch in flight is finished), APIs (requests in flight are answered), functions,
// emulators. It is safe to call twice.
func (l *Local) Stop() {
	l.stopMu.Lock()
	defer l.stopMu.Unlock()
	if l.stopped {
		return
	}
	l.stopped = true
	if l.cancel != nil {
		l.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range l.APIs {
		_ = a.Close(ctx)
	}
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	var wg sync.WaitGroup
	for _, f := range l.Functions {
		wg.Add(1)
		go func() { defer wg.Done(); f.Stop() }()
	}
	wg.Wait()
	if l.secrets != nil {
		_ = l.secrets.Close()
	}
	for _, p := range []*emulators.Process{l.queues, l.dynamo} {
		if p != nil {
			wg.Add(1)
			go func() { defer wg.Done(); p.Stop() }()
		}
	}
	wg.Wait()
	for _, f := range l.files {
		_ = f.Close()
	}
}

// Pids returns the processes of the running stack by role.
func (l *Local) Pids() map[string][]int {
	out := map[string][]int{"payhook-local": {os.Getpid()}}
	for name, p := range map[string]*emulators.Process{"dynamodb": l.dynamo, "fauxqs": l.queues} {
		if p != nil && p.Running() {
			out[name] = append([]int{p.Pid()}, descendants(p.Pid())...)
		}
	}
	for id, f := range l.Functions {
		if pids := f.Pids(); len(pids) > 0 {
			out[id] = pids
		}
	}
	return out
}

// State returns the facts tools need about the running stack.
func (l *Local) State() *State {
	st := l.Stack
	s := &State{
		Running:       true,
		StartedAt:     l.StartedAt.UTC(),
		StartupMillis: l.Startup.Milliseconds(),
		Template:      l.Config.Template,
		Stack:         st.Name,
		Region:        st.Region,
		Emulators: StateEmulators{DynamoDB: l.Endpoints.DynamoDB, SQS: l.Endpoints.Queues, SNS: l.Endpoints.Queues,
			SecretsManager: l.Endpoints.SecretsManager},
		LogDir:      l.Config.LogDir(),
		Pids:        l.Pids(),
		Unsupported: st.Unsupported,
	}
	for _, p := range st.Providers {
		s.Providers = append(s.Providers, StateProvider{Name: p.Name, Scheme: p.Scheme, Secret: p.Secret})
	}
	for i, srv := range l.APIs {
		api := srv.API
		sa := StateAPI{LogicalID: api.LogicalID, URL: srv.URL(), Stages: map[string]string{}, Keys: map[string]string{}}
		for _, stg := range api.Stages {
			sa.Stages[stg.Name] = srv.StageURL(stg.Name)
		}
		for _, r := range api.Routes {
			sa.Routes = append(sa.Routes, r.Method+" "+r.Path)
		}
		for _, pl := range api.UsagePlans {
			for _, k := range pl.Keys {
				sa.Keys[k.LogicalID] = k.Value
			}
		}
		s.APIs = append(s.APIs, sa)
		if i == 0 && len(api.Stages) > 0 {
			if len(api.Routes) > 0 {
				route := api.Routes[0]
				for _, r := range api.Routes {
					if r.Method == "POST" {
						route = r
						break
					}
				}
				s.Endpoint = srv.StageURL(api.Stages[0].Name) + strings.TrimSuffix(route.Path, "/")
			}
			for _, pl := range api.UsagePlans {
				for _, k := range pl.Keys {
					if k.Enabled && s.APIKey == "" {
						s.APIKey = k.Value
					}
				}
			}
		}
	}
	s.Outputs = map[string]string{}
	for k, v := range st.Outputs {
		s.Outputs[k] = l.localURL(v)
	}
	for _, f := range st.Functions {
		sf := StateFunction{LogicalID: f.LogicalID, Name: f.Name, Service: f.Service}
		if fn := l.Functions[f.LogicalID]; fn != nil {
			sf.Log = fn.LogPath()
		}
		s.Functions = append(s.Functions, sf)
	}
	// The system's main resources, as the ingest and notify-failures functions see them.
	if f, ok := st.FunctionByService("ingest"); ok {
		s.Table = f.Env["TABLE_NAME"]
		s.QueueURL = f.Env["QUEUE_URL"]
	}
	if f, ok := st.FunctionByService("notify-failures"); ok {
		s.TopicARN = f.Env["ALERT_TOPIC_ARN"]
	}
	if s.Table == "" && len(st.Tables) == 1 {
		s.Table = st.Tables[0].Name
	}
	if s.TopicARN == "" && len(st.Topics) == 1 {
		s.TopicARN = st.Topics[0].ARN
	}
	if s.QueueURL == "" {
		for _, q := range st.Queues {
			if q.DeadLetterQueue != "" {
				s.QueueURL = q.URL
				break
			}
		}
	}
	if q, ok := st.Queue(s.QueueURL); ok && q.DeadLetterQueue != "" {
		if dlq, ok := st.Queue(q.DeadLetterQueue); ok {
			s.DLQURL = dlq.URL
		}
	}
	return s
}

// executeAPI matches an API Gateway invoke URL: https://<api id>.execute-api.<region>.<suffix>/<rest>.
var executeAPI = regexp.MustCompile(`^https://([a-z0-9]+)\.execute-api\.[^/]+/(.*)$`)

// localURL rewrites the invoke URL of a served API to the local server.
func (l *Local) localURL(v string) string {
	m := executeAPI.FindStringSubmatch(v)
	if m == nil {
		return v
	}
	for _, srv := range l.APIs {
		if srv.API.ID == m[1] {
			return srv.URL() + "/" + m[2]
		}
	}
	return v
}

// fanout is a slog.Handler writing to several handlers.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, lvl slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, lvl) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
