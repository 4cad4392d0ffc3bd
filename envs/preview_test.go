package envs

import (
	"strings"
	"testing"

	"github.com/payhook/payhook/internal/contract"
)

func TestPreview(t *testing.T) {
	dev, err := LoadFile("dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := dev.Preview("pr-42")
	if err != nil {
		t.Fatalf("preview of dev: %v", err)
	}
	if p.Name != "dev-pr-42" || p.PreviewOf() != "dev" || p.Deployable() || p.RetainData || p.Approval != ApprovalNone {
		t.Errorf("preview = name %s of %q deployable %v retain %v approval %s", p.Name, p.PreviewOf(), p.Deployable(), p.RetainData, p.Approval)
	}
	if p.Tags[contract.PreviewTag] != "dev" || p.Account != dev.Account || p.Region != dev.Region {
		t.Errorf("preview tags %v account %s region %s", p.Tags, p.Account, p.Region)
	}
	if _, ok := dev.Tags[contract.PreviewTag]; ok {
		t.Error("making a preview changed the base env's tags")
	}
	if _, err := p.Preview("again"); err == nil || !strings.Contains(err.Error(), "already a preview of dev") {
		t.Errorf("preview of a preview: %v", err)
	}
}

func TestPreviewRefusals(t *testing.T) {
	dev, err := LoadFile("dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prod, err := LoadFile("prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	no := false
	forbidden := dev
	forbidden.AllowPreview = &no
	implicit := prod
	implicit.AllowPreview = nil // retain_data alone forbids copies
	yes := true
	allowed := prod
	allowed.AllowPreview = &yes
	if p, err := allowed.Preview("drill"); err != nil || p.RetainData {
		t.Errorf("prod with allow_preview: true: %v (retain %v)", err, p.RetainData)
	}
	cases := []struct {
		name   string
		env    Env
		suffix string
		want   string
	}{
		{"retain_data forbids by default", implicit, "pr-1", "retain_data: true, so allow_preview defaults to false"},
		{"prod's file says no", prod, "pr-1", "envs/prod.yaml: allow_preview: false"},
		{"allow_preview false", forbidden, "pr-1", "envs/dev.yaml: allow_preview: false"},
		{"empty", dev, "", "a preview suffix is 1 to 23"},
		{"upper case", dev, "PR-1", "lower-case letters"},
		{"underscore", dev, "pr_1", "lower-case letters"},
		{"trailing hyphen", dev, "pr-", "inner hyphens"},
		{"too long for any env", dev, strings.Repeat("a", MaxSuffixLength+1), "1 to 23"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.env.Preview(c.suffix)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Preview(%q) = %v, want an error saying %q", c.suffix, err, c.want)
			}
		})
	}
}

// TestPreviewNameTooLong: a long env name and a long suffix make a function name over
// Lambda's 64 characters, and the error names it.
func TestPreviewNameTooLong(t *testing.T) {
	dev, err := LoadFile("dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	long := dev
	long.Name = "abcdefghijklmnop" // 16, the longest env name
	if _, err := long.Preview(strings.Repeat("s", MaxSuffixLength)); err != nil {
		t.Errorf("the longest env name with the longest suffix must fit: %v", err)
	}
	long.Name = "abcdefghijklmnopq" // one more than an env file may have
	_, err = long.Preview(strings.Repeat("s", MaxSuffixLength))
	want := "Lambda function name payhook-abcdefghijklmnopq-" + strings.Repeat("s", MaxSuffixLength) + "-notify-failures would be 65 characters (AWS allows 64)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
