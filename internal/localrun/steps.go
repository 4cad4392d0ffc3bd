package localrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/lambdabuild"
	"github.com/payhook/payhook/internal/localrun/apigw"
	"github.com/payhook/payhook/internal/localrun/lambdarie"
	"github.com/payhook/payhook/internal/localrun/provision"
	"github.com/payhook/payhook/internal/localrun/schedule"
	"github.com/payhook/payhook/internal/localrun/sqspoll"
	"github.com/payhook/payhook/internal/secretsemu"
)

// The steps of Start, in order.

// startEmulatorsAndBuild starts DynamoDB Local, fauxqs and the Secrets Manager endpoint
// while it installs the RIE and builds the application's functions (App.Builds).
func (l *Local) startEmulatorsAndBuild(ctx context.Context) error {
	builds, err := l.Config.App.Builds(l.Template, l.Config.Root)
	if err != nil {
		return err
	}
	tools, err := emulators.FindTools(l.Config.Root)
	if err != nil {
		return err
	}
	return parallel(
		func() error { return l.startDynamoDB(ctx, tools) },
		func() error { return l.startQueues(ctx, tools) },
		l.startSecrets,
		func() error { return l.installAndBuild(ctx, builds) },
	)
}

// provision creates the template's resources on the emulators and asks the application
// for its facts about them.
func (l *Local) provision(ctx context.Context) error {
	t0 := time.Now()
	l.Endpoints = provision.Endpoints{Region: l.Config.Region, DynamoDB: l.dynamo.URL, Queues: l.queues.URL, SecretsManager: l.secrets.URL}
	var err error
	if l.Clients, err = provision.NewClients(l.Endpoints); err != nil {
		return err
	}
	opts := provision.Options{Region: l.Config.Region, APIKeys: previousAPIKeys(l.Config.Previous),
		Hooks: l.Config.App.ProvisionHooks(l.Config.Previous)}
	if l.Stack, err = provision.ProvisionWith(ctx, l.Template, l.Clients, opts); err != nil {
		return err
	}
	if l.facts, err = l.Config.App.Describe(ctx, l); err != nil {
		return err
	}
	l.progress("  provisioned          %d tables, %d queues, %d topics, %d secrets (%s)",
		len(l.Stack.Tables), len(l.Stack.Queues), len(l.Stack.Topics), len(l.Stack.Secrets), round(time.Since(t0)))
	return l.startIAM()
}

// startFunctions starts every function of the stack under the RIE, each with the
// bootstrap the application gives it.
func (l *Local) startFunctions(ctx context.Context) error {
	rt := &lambdarie.Runtime{RIE: l.rie, Env: l.Endpoints.SDKEnv(), LogDir: l.Config.LogDir(),
		Console: l.Config.FunctionOutput, MaxInstances: l.Config.MaxInstances}
	var mu sync.Mutex
	var starts []func() error
	for _, spec := range l.Stack.Functions {
		bootstrap, err := l.Config.App.Bootstrap(ctx, l, spec)
		if err != nil {
			return fmt.Errorf("function %s: %w", spec.LogicalID, err)
		}
		spec, _ := l.credentials(spec)
		starts = append(starts, func() error {
			f, err := rt.Start(ctx, spec, bootstrap)
			if err != nil {
				return err
			}
			mu.Lock()
			l.Functions[spec.LogicalID] = f
			mu.Unlock()
			return nil
		})
	}
	return parallel(starts...)
}

// serve starts the API servers, the event source mappings, the schedules and the
// emulators' watchdog; all but the APIs run until Stop.
func (l *Local) serve(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	if err := l.serveAPIs(); err != nil {
		return err
	}
	if err := l.startPollers(runCtx); err != nil {
		return err
	}
	l.startSchedules(runCtx)
	if !l.Config.NoWatchdog {
		l.wg.Add(1)
		go func() { defer l.wg.Done(); l.watchdog(runCtx) }()
	}
	return nil
}

// The parts of the steps.

func (l *Local) startDynamoDB(ctx context.Context, tools emulators.Tools) error {
	start := time.Now()
	f, err := l.openLog("dynamodb.log")
	if err != nil {
		return err
	}
	if l.dynamo, err = tools.StartDynamoDB(ctx, f); err != nil {
		return err
	}
	l.progress("  DynamoDB Local       %s (%s)", l.dynamo.URL, round(time.Since(start)))
	return nil
}

func (l *Local) startQueues(ctx context.Context, tools emulators.Tools) error {
	start := time.Now()
	f, err := l.openLog("fauxqs.log")
	if err != nil {
		return err
	}
	// Durable for the run, like SQS itself: an outage (the process killed and
	// restarted by the watchdog) keeps queued messages. Fresh on every start.
	dataDir := filepath.Join(l.Config.WorkDir, "fauxqs-data")
	if err = os.RemoveAll(dataDir); err != nil {
		return err
	}
	if l.queues, err = tools.StartFauxqsDurable(ctx, f, dataDir); err != nil {
		return err
	}
	l.progress("  fauxqs (SQS, SNS)    %s (%s)", l.queues.URL, round(time.Since(start)))
	return nil
}

func (l *Local) startSecrets() error {
	var err error
	if l.secrets, err = secretsemu.Start("127.0.0.1:0", l.Config.Region, cfn.LocalAccount); err != nil {
		return err
	}
	l.progress("  Secrets Manager      %s", l.secrets.URL)
	return nil
}

// installAndBuild installs the RIE, then builds the bootstraps by name.
func (l *Local) installAndBuild(ctx context.Context, builds map[string]string) error {
	start := time.Now()
	var err error
	if l.rie, err = lambdarie.InstallRIE(ctx, filepath.Join(l.Config.WorkDir, "bin"), nil); err != nil {
		return err
	}
	l.progress("  Lambda RIE           %s (%s)", l.rie, round(time.Since(start)))
	if len(builds) == 0 {
		return nil
	}
	start = time.Now()
	built, err := lambdabuild.Host(ctx, l.Config.Root, filepath.Join(l.Config.WorkDir, "functions"), builds, nil)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(built))
	l.builtMu.Lock()
	for name, b := range built {
		l.built[name] = b
		names = append(names, name)
	}
	l.builtMu.Unlock()
	sort.Strings(names)
	l.progress("  functions built      %s (%s)", strings.Join(names, ", "), round(time.Since(start)))
	return nil
}

func (l *Local) serveAPIs() error {
	invokers := map[string]lambdarie.Invoker{}
	for id, f := range l.Functions {
		invokers[id] = f
	}
	for i, api := range l.Stack.APIs {
		srv := apigw.NewServer(api, invokers, l.Stack.Region, l.Stack.Account)
		srv.Log = l.log
		addr := "127.0.0.1:0"
		if i == 0 {
			addr = l.Config.APIAddr
		}
		if err := srv.Start(addr); err != nil {
			return err
		}
		l.APIs = append(l.APIs, srv)
	}
	return nil
}

func (l *Local) startPollers(ctx context.Context) error {
	for _, es := range l.Stack.EventSources {
		clients, err := l.ClientsAs(es.Function)
		if err != nil {
			return fmt.Errorf("event source mapping %s: %w", es.LogicalID, err)
		}
		p := &sqspoll.Poller{Source: es, SQS: clients.SQS, Function: l.Functions[es.Function],
			Concurrency: l.Config.PollerConcurrency, Log: l.log}
		l.Pollers = append(l.Pollers, p)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			if err := p.Run(ctx); err != nil {
				l.log.Error("event source mapping disabled", "mapping", es.LogicalID, "err", err.Error())
			}
		}()
	}
	return nil
}

func (l *Local) startSchedules(ctx context.Context) {
	for _, s := range l.Stack.Schedules {
		sch := &schedule.Scheduler{Schedule: s, Function: l.Functions[s.Function], Region: l.Stack.Region,
			Account: l.Stack.Account, Log: l.log}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			if err := sch.Run(ctx); err != nil {
				l.log.Error("schedule stopped", "rule", s.LogicalID, "err", err.Error())
			}
		}()
	}
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
		}{{l.dynamo, provision.EmulatorDynamoDB}, {l.queues, provision.EmulatorQueues}} {
			if e.p == nil || e.p.Running() || ctx.Err() != nil {
				continue
			}
			l.restart(ctx, e.p, e.kind)
		}
	}
}

// restart restarts an emulator that exited and re-provisions the stack on it.
func (l *Local) restart(ctx context.Context, p *emulators.Process, kind string) {
	l.log.Error("emulator exited; restarting it on the same port", "emulator", p.Name, "url", p.URL)
	if err := p.Restart(ctx); err != nil {
		l.log.Error("emulator restart failed", "emulator", p.Name, "err", err.Error())
		return
	}
	if err := l.Stack.Reprovision(ctx, l.Clients, kind); err != nil {
		l.log.Error("re-provisioning after the restart failed", "emulator", p.Name, "err", err.Error())
		return
	}
	l.log.Warn("emulator restarted and re-provisioned", "emulator", p.Name)
}

// parallel runs fns at once and returns their errors joined.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
