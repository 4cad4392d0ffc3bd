// Package ciworkflow writes the CI workflows `go run mage.go new:ci <system>` generates: for
// GitHub Actions, a preview of one env per pull request (deployed through an OIDC role,
// smoke-tested, its endpoint posted on the pull request, destroyed when the pull request
// closes), and the trust policy that role needs.
package ciworkflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"text/template"

	"github.com/payhook/payhook/envs"
	"github.com/payhook/payhook/internal/contract"
)

// GitHubPath is where the GitHub Actions workflow is written, relative to the repository.
const GitHubPath = ".github/workflows/payhook-preview.yml"

// Systems lists the CI systems new:ci knows.
var Systems = []string{"github"}

// OIDCProvider is GitHub's OpenID Connect issuer, as IAM names it.
const OIDCProvider = "token.actions.githubusercontent.com"

// repoPattern is a GitHub repository, owner/name.
var repoPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// Preview describes the preview workflow of one env.
type Preview struct {
	// Env is the env copied per pull request; it must allow previews and name its
	// preview_role.
	Env envs.Env
	// Repository is the GitHub repository (owner/name) whose pull requests deploy previews.
	Repository string
}

// check refuses what would make a workflow that cannot work.
func (p Preview) check() error {
	e := p.Env
	switch {
	case !e.PreviewAllowed():
		return fmt.Errorf("new:ci: env %s allows no preview copies (envs/%s.yaml: allow_preview)", e.Name, e.Name)
	case e.LocalOnly:
		return fmt.Errorf("new:ci: env %s is local-only: a CI preview deploys to AWS", e.Name)
	case e.PreviewRole == "":
		return fmt.Errorf("new:ci: envs/%s.yaml names no preview_role: the role the workflow assumes through GitHub's OIDC provider (README \"Preview environments\" gives its trust policy)", e.Name)
	case !repoPattern.MatchString(p.Repository):
		return fmt.Errorf("new:ci: repository %q is not a GitHub owner/name", p.Repository)
	}
	// The longest suffix a pull request makes (pr- and a number) must fit every name.
	if _, err := e.Preview("pr-9999999"); err != nil {
		return fmt.Errorf("new:ci: %w", err)
	}
	return nil
}

// GitHub returns the GitHub Actions workflow for p.
func GitHub(p Preview) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err := github.Execute(&b, map[string]any{
		"Env": p.Env.Name, "Region": p.Env.Region, "Role": p.Env.PreviewRole, "Repository": p.Repository,
		"StackPrefix": contract.StageName(p.Env.Name), "APIURL": contract.OutputAPIURL, "Path": GitHubPath,
	})
	if err != nil {
		return nil, fmt.Errorf("new:ci: %w", err)
	}
	return b.Bytes(), nil
}

// TrustPolicy is the trust policy of p's preview_role: GitHub's OIDC provider in the env's
// account may assume it for p's repository's pull_request events only.
func TrustPolicy(p Preview) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	provider := fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", contract.Partition(p.Env.Region), p.Env.Account, OIDCProvider)
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": provider},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				OIDCProvider + ":aud": "sts.amazonaws.com",
				OIDCProvider + ":sub": "repo:" + p.Repository + ":pull_request",
			}},
		}},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("new:ci: trust policy: %w", err)
	}
	return append(out, '\n'), nil
}

// github is the preview workflow. Untrusted text of the event (titles, branch names) is never
// interpolated into a script: only the pull request's number, through env.
var github = template.Must(template.New("github").Delims("[[", "]]").Parse(`# Written by ` + "`go run mage.go new:ci github`" + ` (ENV=[[.Env]]): a preview copy of [[.Env]] per
# pull request of [[.Repository]], deployed through the OIDC role below, smoke-tested, its
# endpoint posted on the pull request, and destroyed when the pull request closes.
# README "Preview environments" gives the role's trust policy and permissions.
# Regenerate it rather than edit it: the tests check it with actionlint.
name: payhook preview

on:
  pull_request:
    types: [opened, synchronize, reopened, closed]

concurrency:
  group: payhook-preview-${{ github.event.pull_request.number }}
  cancel-in-progress: false

permissions:
  contents: read
  id-token: write
  pull-requests: write

env:
  ENV: [[.Env]]
  SUFFIX: pr-${{ github.event.pull_request.number }}
  AWS_REGION: [[.Region]]

jobs:
  deploy:
    name: deploy the preview
    if: github.event.action != 'closed'
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
[[template "setup" .]]      - name: deploy [[.StackPrefix]]-pr-<number>
        run: go run mage.go deploy
      - name: read the endpoint
        id: endpoint
        run: |
          url="$(aws cloudformation describe-stacks --stack-name "[[.StackPrefix]]-${SUFFIX}" \
            --query "Stacks[0].Outputs[?OutputKey=='[[.APIURL]]'].OutputValue" --output text)"
          echo "url=${url}" >> "$GITHUB_OUTPUT"
      - name: smoke-test the preview
        run: go run mage.go smoke
      - name: post the endpoint on the pull request
        uses: actions/github-script@v7
        env:
          URL: ${{ steps.endpoint.outputs.url }}
        with:
          script: |
            await github.rest.issues.createComment({
              owner: context.repo.owner,
              repo: context.repo.repo,
              issue_number: context.issue.number,
              body: ` + "`" + `payhook preview ${process.env.SUFFIX} of ${process.env.ENV} is up and passed smoke: ${process.env.URL}` + "`" + `,
            });

  destroy:
    name: destroy the preview
    if: github.event.action == 'closed'
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
[[template "setup" .]]      - name: destroy [[.StackPrefix]]-pr-<number>
        run: go run mage.go destroy
[[define "setup"]]      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: [[.Role]]
          aws-region: [[.Region]]
      - name: install the pinned CDK CLI
        run: npm ci
[[end]]`))
