//go:build mage

package main

import (
	"fmt"
	"path/filepath"
)

// oneTemplate returns the one synthesized template (*.template.json) in an assembly
// directory; what names the target for the errors.
func oneTemplate(what, dir string) (string, error) {
	templates, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil {
		return "", fmt.Errorf("%s: find the template in %s: %w", what, dir, err)
	}
	if len(templates) != 1 {
		return "", fmt.Errorf("%s: want one template in %s, found %d", what, dir, len(templates))
	}
	return templates[0], nil
}
