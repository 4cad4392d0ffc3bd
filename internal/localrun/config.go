package localrun

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/emulators"
	"github.com/payhook/payhook/internal/localrun/faults"
)

// Config configures Start.
type Config struct {
	// Template is the synthesized CloudFormation template, or a cloud assembly
	// directory with a single stack (required).
	Template string
	// App is the application's knowledge (default DefaultApp, which has none).
	App App
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
	// IAMOff lets calls that the template's IAM denies through (PAYHOOK_IAM=off); they are
	// still recorded as denied in <WorkDir>/calls.jsonl. By default they are refused as AWS
	// refuses them.
	IAMOff bool
	// Faults, when set, injects the failures of this plan into the functions' AWS calls
	// (internal/localrun/faults); each is recorded in <WorkDir>/calls.jsonl.
	Faults *faults.Plan
}

// LogDir is where the function and emulator logs go.
func (c Config) LogDir() string { return filepath.Join(c.WorkDir, "logs") }

// configure fills in the configuration's defaults, prepares the log directory and reads
// the template.
func (l *Local) configure() error {
	if err := l.defaults(); err != nil {
		return err
	}
	path, err := cfn.ResolveTemplatePath(l.Config.Template)
	if err != nil {
		return err
	}
	l.Config.Template = path
	if l.Template, err = cfn.ParseTemplate(path); err != nil {
		return err
	}
	if l.Template.Transform != nil {
		return fmt.Errorf("template %s uses a Transform (%v): transforms are not supported locally", path, l.Template.Transform)
	}
	if l.Config.Region == "" {
		l.Config.Region = l.Template.Region
	}
	if l.Config.Region == "" {
		l.Config.Region = "us-east-1"
	}
	return nil
}

func (l *Local) defaults() error {
	c := &l.Config
	if c.Template == "" {
		return errors.New("local stack: a template is required")
	}
	if c.App == nil {
		c.App = DefaultApp{}
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
		c.APIAddr = previousAPIAddr(c.Previous)
	}
	// Logs of the previous run are replaced.
	if err := os.RemoveAll(c.LogDir()); err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	if err := os.MkdirAll(c.LogDir(), 0o755); err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	return l.openRuntimeLog()
}

// previousAPIAddr is the previous run's API address when its port is free, else a free
// port on 127.0.0.1.
func previousAPIAddr(prev *State) string {
	if prev == nil || len(prev.APIs) == 0 {
		return "127.0.0.1:0"
	}
	u, err := url.Parse(prev.APIs[0].URL)
	if err != nil || u.Port() == "" {
		return "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+u.Port())
	if err != nil {
		return "127.0.0.1:0"
	}
	ln.Close()
	return "127.0.0.1:" + u.Port()
}

// openRuntimeLog sets the runtime log: Config.Log, or JSON to payhook-local.log and
// warnings to stderr.
func (l *Local) openRuntimeLog() error {
	l.log = l.Config.Log
	if l.log != nil {
		return nil
	}
	f, err := l.openLog("payhook-local.log")
	if err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	l.log = slog.New(fanout{
		slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
	})
	return nil
}

// openLog creates (or truncates) a log file in the log directory; Stop closes it.
func (l *Local) openLog(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(l.Config.LogDir(), name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	l.filesMu.Lock()
	l.files = append(l.files, f)
	l.filesMu.Unlock()
	return f, nil
}
