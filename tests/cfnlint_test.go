package tests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cfnLintFinding is one line of `cfn-lint --format parseable`:
// file:line:column:endLine:endColumn:rule:message.
type cfnLintFinding struct {
	File, Rule, Message string
	Line                int
}

// knownFalsePositive reports a finding of cfn-lint that AWS would not refuse: the schemas of
// cfn-lint 1.51 predate Tags on AWS::CloudWatch::Dashboard (CloudFormation accepts them).
func knownFalsePositive(f cfnLintFinding, source []string) bool {
	return f.Rule == "E3002" && strings.Contains(f.Message, "'Tags' was unexpected") &&
		f.Line >= 1 && f.Line <= len(source) && dashboardAbove(source, f.Line)
}

// dashboardAbove reports whether the resource that holds line n (1-based) is a CloudWatch
// dashboard: the nearest "Type" line above it at the resource's depth.
func dashboardAbove(source []string, n int) bool {
	for i := n - 1; i >= 0; i-- {
		if t := strings.TrimSpace(source[i]); strings.HasPrefix(t, `"Type": "AWS::`) {
			return strings.Contains(t, "AWS::CloudWatch::Dashboard")
		}
	}
	return false
}

// TestCfnLint runs AWS's CloudFormation linter over every template payhook synthesizes (each
// env, the pipeline, the example app) where it is installed: an error fails the test,
// warnings are logged. It is not on the package registries payhook installs from, so where
// it is missing the test says so and skips.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		fmt.Fprintln(os.Stderr, "TestCfnLint: SKIPPED: cfn-lint is not on PATH (pip install cfn-lint to run it)")
		t.Skip("cfn-lint is not on PATH")
	}
	list := gatedTemplates(t)
	args := []string{"--format", "parseable", "--regions", "us-east-1", "--"}
	for _, st := range list {
		args = append(args, st.File)
	}
	out, err := exec.Command(bin, args...).Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "run cfn-lint")
	}
	sources := map[string][]string{}
	var errs, warnings []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 7)
		if len(parts) != 7 {
			continue
		}
		f := cfnLintFinding{File: parts[0], Rule: parts[5], Message: parts[6]}
		fmt.Sscan(parts[1], &f.Line)
		if _, ok := sources[f.File]; !ok {
			b, err := os.ReadFile(f.File)
			require.NoError(t, err)
			sources[f.File] = strings.Split(string(b), "\n")
		}
		switch {
		case knownFalsePositive(f, sources[f.File]):
		case strings.HasPrefix(f.Rule, "E"):
			errs = append(errs, sc.Text())
		default:
			warnings = append(warnings, sc.Text())
		}
	}
	for _, w := range warnings {
		t.Log(w)
	}
	assert.Empty(t, errs, "cfn-lint errors on %d templates", len(list))
	version, _ := exec.Command(bin, "--version").Output()
	fmt.Fprintf(os.Stderr, "TestCfnLint: %s over %d templates: %d errors, %d warnings\n",
		strings.TrimSpace(string(version)), len(list), len(errs), len(warnings))
}
