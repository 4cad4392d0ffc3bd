// Package appgen writes a new webhook service on payhook's constructs for another team: a
// Go module with its CDK app (a webhook ingress queuing to a worker, alarms to one topic),
// the two Lambda functions to fill in, cdk.json and a README saying how to build, synthesize
// and deploy. `go run mage.go new:app DIR` runs it; its test builds and synthesizes what it
// writes.
package appgen

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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
	CDK, LambdaGo, SDKConfig, SQS, Constructs, Jsii, PayhookConstructs string
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
}

var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	pathPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// VersionsFrom reads the versions the service needs from a go.mod (payhook's).
func VersionsFrom(goMod []byte) (Versions, error) {
	f, err := modfile.Parse("go.mod", goMod, nil)
	if err != nil {
		return Versions{}, fmt.Errorf("appgen: %w", err)
	}
	have := map[string]string{}
	for _, r := range f.Require {
		have[r.Mod.Path] = r.Mod.Version
	}
	v := Versions{}
	var missing []string
	for path, dst := range map[string]*string{
		"github.com/aws/aws-cdk-go/awscdk/v2":         &v.CDK,
		"github.com/aws/aws-lambda-go":                &v.LambdaGo,
		"github.com/aws/aws-sdk-go-v2/config":         &v.SDKConfig,
		"github.com/aws/aws-sdk-go-v2/service/sqs":    &v.SQS,
		"github.com/aws/constructs-go/constructs/v10": &v.Constructs,
		"github.com/aws/jsii-runtime-go":              &v.Jsii,
		"github.com/payhook/payhook/constructs":       &v.PayhookConstructs,
	} {
		if *dst = have[path]; *dst == "" {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		return Versions{}, fmt.Errorf("appgen: go.mod requires none of %s", strings.Join(missing, ", "))
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
		"Versions": o.Versions, "ConstructsDir": filepath.ToSlash(o.ConstructsDir)}
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
