// Command nagreport synthesizes every environment and the pipeline, then runs three cdk-nag
// packs (AwsSolutions, PCI DSS 3.2.1, NIST 800-53 R5) over each synthesized template, as
// the tests' gate does (internal/naggate: every resource of the template, custom resources
// too), and prints, per stack and pack, how many findings are left open and how many are
// suppressed (each suppression has its reason on its resource; cdk-nag's CSV reports under
// the reports directory list them). It is what `go run mage.go nag` runs. It reports; it
// does not gate: tests/ gates AwsSolutions and PCI DSS 3.2.1, NIST 800-53 R5 is
// informational.
package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/payhook/payhook/app"
	"github.com/payhook/payhook/internal/cfn"
	"github.com/payhook/payhook/internal/naggate"
)

func main() {
	err := run(os.Stdout)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "nagreport:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	out, err := os.MkdirTemp("", "payhook-nag-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	cdkApp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(out, "cdk.out"))})
	if _, err := app.Build(cdkApp, app.AppConfig{EnvsDir: "envs", AssetsDir: "build", WithPipeline: true}); err != nil {
		return err
	}
	asm := cdkApp.Synth(nil)
	templates, err := cfn.Stacks(*asm.Directory())
	if err != nil {
		return err
	}
	props := &cdknag.NagPackProps{Reports: jsii.Bool(true)}
	packs := append(naggate.Gated(props), cdknag.NewNIST80053R5Checks(props))
	var counts []count
	for _, t := range templates {
		res, err := naggate.Check(cdkApp, "Nag"+t.ID, t.File, packs...)
		if err != nil {
			return err
		}
		c, err := readReports(res.Outdir, t.ID)
		if err != nil {
			return err
		}
		counts = append(counts, c...)
	}
	return print(w, counts)
}

// count is one stack's findings under one pack.
type count struct {
	stack, pack      string
	open, suppressed int
}

// readReports reads cdk-nag's CSV reports (<pack>-<stack>-NagReport.csv, one row per rule
// and resource) anywhere under dir, as the findings of stack.
func readReports(dir, stack string) ([]count, error) {
	byKey := map[string]*count{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "-NagReport.csv") {
			return err
		}
		pack, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(path), "-NagReport.csv"), "-")
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		c := byKey[stack+"/"+pack]
		if c == nil {
			c = &count{stack: stack, pack: pack}
			byKey[stack+"/"+pack] = c
		}
		for _, r := range rows[1:] {
			if len(r) < 3 {
				continue
			}
			switch r[2] {
			case "Non-Compliant":
				c.open++
			case "Suppressed":
				c.suppressed++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(byKey) == 0 {
		return nil, errors.New("cdk-nag wrote no report")
	}
	out := make([]count, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].stack != out[j].stack {
			return out[i].stack < out[j].stack
		}
		return out[i].pack < out[j].pack
	})
	return out, nil
}

func print(w io.Writer, counts []count) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "stack\tpack\topen\tsuppressed")
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", c.stack, c.pack, c.open, c.suppressed)
	}
	return tw.Flush()
}
