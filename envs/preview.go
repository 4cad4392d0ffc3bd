package envs

import (
	"fmt"
	"regexp"

	"github.com/payhook/payhook/internal/contract"
)

// MaxSuffixLength is the longest preview suffix: a suffix of this length on an env name of
// the longest allowed (16) still fits every physical name (contract.PhysicalNames).
const MaxSuffixLength = 23

// suffixPattern is a preview suffix: lower-case letters, digits and inner hyphens, the
// characters every AWS name payhook derives from an env name accepts.
var suffixPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// PreviewAllowed reports whether preview copies of e may be made: allow_preview, which
// defaults to true unless e retains data.
func (e Env) PreviewAllowed() bool {
	if e.AllowPreview != nil {
		return *e.AllowPreview
	}
	return !e.RetainData
}

// PreviewOf is the name of the env e is a preview copy of ("" when e is not a preview).
func (e Env) PreviewOf() string { return e.previewOf }

// File is the env file that describes e, "envs/<name>.yaml" (a preview's base env's file).
func (e Env) File() string {
	name := e.Name
	if e.previewOf != "" {
		name = e.previewOf
	}
	return "envs/" + name + ".yaml"
}

// Preview returns the preview copy of e named by suffix: named "<e.Name>-<suffix>", so its
// stack, every physical name and its Env tag carry the suffix; it never retains data, waits
// for no approval and is no pipeline stage. It refuses a suffix AWS's names would refuse or
// that makes a physical name too long (naming that name), and an env whose file forbids
// copies (allow_preview: false, the default with retain_data).
func (e Env) Preview(suffix string) (Env, error) {
	if e.previewOf != "" {
		return Env{}, fmt.Errorf("env %s is already a preview of %s", e.Name, e.previewOf)
	}
	if !e.PreviewAllowed() {
		why := "allow_preview: false"
		if e.AllowPreview == nil {
			why = "retain_data: true, so allow_preview defaults to false"
		}
		return Env{}, fmt.Errorf("env %s allows no preview copies (%s: %s)", e.Name, e.File(), why)
	}
	if len(suffix) > MaxSuffixLength || !suffixPattern.MatchString(suffix) {
		return Env{}, fmt.Errorf("SUFFIX=%q: a preview suffix is 1 to %d lower-case letters, digits and inner hyphens (pr-42, alice)",
			suffix, MaxSuffixLength)
	}
	p := e
	p.Name = e.Name + "-" + suffix
	p.previewOf = e.Name
	p.RetainData = false
	p.Approval = ApprovalNone
	p.Order = 0
	p.Tags = make(map[string]string, len(e.Tags)+1)
	for k, v := range e.Tags {
		p.Tags[k] = v
	}
	p.Tags[contract.PreviewTag] = e.Name
	for _, n := range contract.PhysicalNames(p.Name) {
		if len(n.Name) > n.Max {
			return Env{}, fmt.Errorf("SUFFIX=%q: the preview's %s %s would be %d characters (AWS allows %d)",
				suffix, n.What, n.Name, len(n.Name), n.Max)
		}
	}
	return p, nil
}
