package localrun

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/lambdabuild"
	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/iamproxy"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/procs"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
	"github.com/payhook/payhook/internal/secretsemu"
)

// Local is a running local stack: emulators, provisioned resources, functions, APIs,
// pollers and schedules.
type Local struct {
	// Config is the configuration it was started with (defaults filled in).
	Config Config
	// Template is the template it runs.
	Template *cfn.Template
	// Stack is the provisioned stack.
	Stack *provision.Stack
	// Endpoints are the emulators' URLs.
	Endpoints provision.Endpoints
	// Clients are SDK clients on the emulators.
	Clients provision.Clients
	// Functions are the running functions by logical id.
	Functions map[string]*lambdarie.Function
	// APIs are the running API servers.
	APIs []*apigw.Server
	// Pollers are the running event source mappings.
	Pollers []*sqspoll.Poller
	// Timings lists how long each start-up step took.
	Timings []StepTiming
	// StartedAt is when Start was called.
	StartedAt time.Time
	// Startup is how long Start took.
	Startup time.Duration

	log     *slog.Logger
	facts   AppFacts
	filesMu sync.Mutex
	files   []*os.File
	dynamo  *emulators.Process
	queues  *emulators.Process
	secrets *secretsemu.Server
	iam     *iamproxy.Proxy
	rie     string
	builtMu sync.Mutex
	built   map[string]string // bootstraps by name (Build)
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

// Start brings the template up locally: it starts the emulators, builds the functions and
// the RIE (in parallel), provisions the emulators from the template, starts every
// function, API, event source mapping and schedule, and returns once all of them run.
// On error, whatever was started is stopped.
func Start(ctx context.Context, cfg Config) (l *Local, err error) {
	l = &Local{Config: cfg, StartedAt: time.Now(), Functions: map[string]*lambdarie.Function{}, built: map[string]string{}}
	defer func() {
		if err != nil {
			l.Stop()
			l = nil
		}
	}()
	if err := l.configure(); err != nil {
		return l, err
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"emulators, RIE and builds", l.startEmulatorsAndBuild},
		{"provision", l.provision},
		{"functions", l.startFunctions},
		{"APIs, pollers, schedules", l.serve},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.run(ctx); err != nil {
			return l, err
		}
		l.Timings = append(l.Timings, StepTiming{Step: s.name, Duration: time.Since(t0)})
	}
	l.Startup = time.Since(l.StartedAt)
	return l, nil
}

func (l *Local) progress(format string, args ...any) {
	if l.Config.Progress != nil {
		fmt.Fprintf(l.Config.Progress, format+"\n", args...)
	}
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }

// Build returns the bootstrap built from the Go package pkg under name, building it
// (lambdabuild.Host into <WorkDir>/functions) unless a bootstrap of that name was
// built before, at start (App.Builds) or by an earlier call.
func (l *Local) Build(ctx context.Context, name, pkg string) (string, error) {
	l.builtMu.Lock()
	defer l.builtMu.Unlock()
	if b, ok := l.built[name]; ok {
		return b, nil
	}
	built, err := lambdabuild.Host(ctx, l.Config.Root, filepath.Join(l.Config.WorkDir, "functions"), map[string]string{name: pkg}, nil)
	if err != nil {
		return "", err
	}
	l.built[name] = built[name]
	return built[name], nil
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
	l.stopIAM(ctx)
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
			out[name] = append([]int{p.Pid()}, procs.Descendants(p.Pid())...)
		}
	}
	for id, f := range l.Functions {
		if pids := f.Pids(); len(pids) > 0 {
			out[id] = pids
		}
	}
	return out
}
