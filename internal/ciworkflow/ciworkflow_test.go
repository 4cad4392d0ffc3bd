package ciworkflow

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/payhook/payhook/envs"
)

func loadEnv(t *testing.T, name string) envs.Env {
	t.Helper()
	e, err := envs.LoadFile("../../envs/" + name + ".yaml")
	require.NoError(t, err)
	return e
}

// lint runs actionlint (the Go module, as its CLI does) over a workflow; shellcheck checks
// the run scripts when it is on PATH.
func lint(t *testing.T, workflow []byte) []*actionlint.Error {
	t.Helper()
	opts := &actionlint.LinterOptions{}
	if path, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = path
	} else {
		t.Log("shellcheck is not on PATH: actionlint checks the workflow without it")
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	require.NoError(t, err)
	errs, err := l.Lint(GitHubPath, workflow, nil)
	require.NoError(t, err)
	return errs
}

func TestGitHubWorkflowPassesActionlint(t *testing.T) {
	dev := loadEnv(t, "dev")
	wf, err := GitHub(Preview{Env: dev, Repository: "payhook/payhook"})
	require.NoError(t, err)
	for _, e := range lint(t, wf) {
		t.Errorf("actionlint: %s", e.Error())
	}
	text := string(wf)
	for _, want := range []string{
		"ENV: dev", "SUFFIX: pr-${{ github.event.pull_request.number }}", "AWS_REGION: " + dev.Region,
		"role-to-assume: " + dev.PreviewRole, "id-token: write", "types: [opened, synchronize, reopened, closed]",
		"run: go run mage.go deploy", "run: go run mage.go smoke", "run: go run mage.go destroy",
		"if: github.event.action == 'closed'", `--stack-name "payhook-dev-${SUFFIX}"`,
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "github.event.pull_request.title", "no untrusted text reaches a script")
}

// TestActionlintCatchesABrokenWorkflow proves the lint above can fail: an untrusted title in
// a script and an unknown key are both reported.
func TestActionlintCatchesABrokenWorkflow(t *testing.T) {
	wf, err := GitHub(Preview{Env: loadEnv(t, "dev"), Repository: "payhook/payhook"})
	require.NoError(t, err)
	broken := strings.Replace(string(wf), "run: go run mage.go smoke", `run: echo "${{ github.event.pull_request.title }}"`, 1)
	broken = strings.Replace(broken, "timeout-minutes: 60", "timeout-minutes: 60\n    retries: 3", 1)
	errs := lint(t, []byte(broken))
	var kinds []string
	for _, e := range errs {
		kinds = append(kinds, e.Kind)
	}
	assert.Contains(t, kinds, "expression", "the untrusted title is flagged: %v", errs)
	assert.Contains(t, kinds, "syntax-check", "the unknown key is flagged: %v", errs)
}

func TestTrustPolicyIsScopedToPullRequests(t *testing.T) {
	dev := loadEnv(t, "dev")
	b, err := TrustPolicy(Preview{Env: dev, Repository: "payhook/payhook"})
	require.NoError(t, err)
	var doc struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Statement, 1)
	s := doc.Statement[0]
	assert.Equal(t, "Allow", s.Effect)
	assert.Equal(t, "sts:AssumeRoleWithWebIdentity", s.Action)
	assert.Equal(t, "arn:aws:iam::"+dev.Account+":oidc-provider/token.actions.githubusercontent.com", s.Principal["Federated"])
	assert.Equal(t, map[string]string{
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "repo:payhook/payhook:pull_request",
	}, s.Condition["StringEquals"], "one repository's pull_request events only: no StringLike wildcard")
}

func TestGeneratorRefusals(t *testing.T) {
	dev, prod, local := loadEnv(t, "dev"), loadEnv(t, "prod"), loadEnv(t, "local")
	noRole := dev
	noRole.PreviewRole = ""
	cases := []struct {
		name string
		p    Preview
		want string
	}{
		{"prod allows no previews", Preview{Env: prod, Repository: "payhook/payhook"}, "allows no preview copies"},
		{"local-only", Preview{Env: local, Repository: "payhook/payhook"}, "local-only"},
		{"no preview_role", Preview{Env: noRole, Repository: "payhook/payhook"}, "names no preview_role"},
		{"not owner/name", Preview{Env: dev, Repository: "payhook"}, "not a GitHub owner/name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := GitHub(c.p)
			assert.ErrorContains(t, err, c.want)
			_, err = TrustPolicy(c.p)
			assert.ErrorContains(t, err, c.want)
		})
	}
}
