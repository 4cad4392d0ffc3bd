// Package appgen writes a new webhook service on payhook's constructs for another team: a
// Go module with its CDK app (a webhook ingress whose receiver verifies signatures, queuing
// to a worker that records each event once in a table, alarms to one topic), an envs/ file
// per environment, the two functions with their tests, a magefile (build, test, synth,
// deploy, local, send) and a README. `go run mage.go new:app DIR` runs it; its test runs
// what it writes: the app's tests, its synth, and a local run under payhook's runner with a
// signed event recorded.
package appgen

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

//go:embed all:template
var files embed.FS

// Versions are the module versions the new service requires, taken from payhook's own
// go.mod so that what is generated is what payhook builds and tests with.
type Versions struct {
	CDK, LambdaGo, SDK, SDKConfig, SDKCredentials, DynamoDB, SecretsManager, SQS string
	Constructs, Jsii, YAML, Mage, PayhookConstructs                              string
	// CDKCLI is the version of the CDK CLI (npm aws-cdk) the generated deploy runs.
	CDKCLI string
}

// Options say what to write.
type Options struct {
	// Dir is where the service is written; it must not exist, or be empty.
	Dir string
	// Module is the new Go module's path, e.g. example.com/shipping/hooks.
	Module string
	// Name is the service's name, also its stack's: 2 to 32 lower-case letters, digits and
	// hyphens.
	Name string
	// Path is the webhook route's path segment (default "webhooks").
	Path string
	// Versions of the modules required.
	Versions Versions
	// ConstructsDir, when set, builds against that local copy of the constructs module
	// (a replace directive) instead of a released version.
	ConstructsDir string
	// PayhookDir is the payhook checkout whose local runner the app's `local` target runs
	// (required; the app's PAYHOOK_DIR overrides it).
	PayhookDir string
}

var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	pathPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// VersionsFrom reads the versions the service needs from payhook's go.mod and
// package.json.
func VersionsFrom(goMod, packageJSON []byte) (Versions, error) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(packageJSON, &pkg); err != nil {
		return Versions{}, fmt.Errorf("appgen: package.json: %w", err)
	}
	f, err := modfile.Parse("go.mod", goMod, nil)
	if err != nil {
		return Versions{}, fmt.Errorf("appgen: %w", err)
	}
	have := map[string]string{}
	for _, r := range f.Require {
		have[r.Mod.Path] = r.Mod.Version
	}
	v := Versions{CDKCLI: pkg.DevDependencies["aws-cdk"]}
	var missing []string
	if v.CDKCLI == "" {
		missing = append(missing, "aws-cdk (package.json)")
	}
	for path, dst := range map[string]*string{
		"github.com/aws/aws-cdk-go/awscdk/v2":                 &v.CDK,
		"github.com/aws/aws-lambda-go":                        &v.LambdaGo,
		"github.com/aws/aws-sdk-go-v2":                        &v.SDK,
		"github.com/aws/aws-sdk-go-v2/config":                 &v.SDKConfig,
		"github.com/aws/aws-sdk-go-v2/credentials":            &v.SDKCredentials,
		"github.com/aws/aws-sdk-go-v2/service/dynamodb":       &v.DynamoDB,
		"github.com/aws/aws-sdk-go-v2/service/secretsmanager": &v.SecretsManager,
		"github.com/aws/aws-sdk-go-v2/service/sqs":            &v.SQS,
		"github.com/aws/constructs-go/constructs/v10":         &v.Constructs,
		"github.com/aws/jsii-runtime-go":                      &v.Jsii,
		"github.com/goccy/go-yaml":                            &v.YAML,
		"github.com/magefile/mage":                            &v.Mage,
		"github.com/payhook/payhook/constructs":               &v.PayhookConstructs,
	} {
		if *dst = have[path]; *dst == "" {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return Versions{}, fmt.Errorf("appgen: payhook's go.mod or package.json has no version of %s", strings.Join(missing, ", "))
	}
	return v, nil
}

// check refuses options that would write a service that cannot build.
func (o *Options) check() error {
	if o.Path == "" {
		o.Path = "webhooks"
	}
	var errs []error
	if err := module.CheckPath(o.Module); err != nil {
		errs = append(errs, fmt.Errorf("module %q: %w", o.Module, err))
	}
	if !namePattern.MatchString(o.Name) {
		errs = append(errs, fmt.Errorf("name %q: 2 to 32 lower-case letters, digits and hyphens, starting with a letter", o.Name))
	}
	if !pathPattern.MatchString(o.Path) {
		errs = append(errs, fmt.Errorf("path %q: one segment of lower-case letters, digits and hyphens", o.Path))
	}
	if o.PayhookDir == "" || !filepath.IsAbs(o.PayhookDir) {
		errs = append(errs, fmt.Errorf("payhook dir %q: an absolute path to the payhook checkout is required", o.PayhookDir))
	}
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		errs = append(errs, fmt.Errorf("%s is not empty: nothing written", o.Dir))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("%s: %w", o.Dir, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("new app: %w", err)
	}
	return nil
}

// Write writes the service and returns the files written, relative to o.Dir.
func Write(o Options) ([]string, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	data := map[string]any{"Module": o.Module, "Name": o.Name, "Stack": o.Name, "Path": o.Path,
		"Versions": o.Versions, "ConstructsDir": filepath.ToSlash(o.ConstructsDir),
		"PayhookDir": o.PayhookDir}
	var written []string
	err := fs.WalkDir(files, "template", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		t, err := template.New(path).Delims("[[", "]]").Option("missingkey=error").Parse(string(src))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(path, "template/"), ".tmpl")
		dst := filepath.Join(o.Dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		written = append(written, rel)
		return os.WriteFile(dst, b.Bytes(), 0o644)
	})
	if err != nil {
		return written, fmt.Errorf("new app: %w", err)
	}
	return written, nil
}
