//go:build ignore

// Zero-install entry point: `go run mage.go <target>` runs payhook's mage targets with the
// mage version pinned in go.mod, without installing mage.
package main

import (
	"os"
	"regexp"

	"github.com/magefile/mage/mage"
)

// setting is a KEY=VALUE argument: `go run mage.go deploy ENV=dev` is
// `ENV=dev go run mage.go deploy`, one convention for every target.
var setting = regexp.MustCompile(`^[A-Z][A-Z0-9_]*=`)

func main() {
	args := os.Args[:1]
	for _, a := range os.Args[1:] {
		if setting.MatchString(a) {
			k, v := a[:len(setting.FindString(a))-1], a[len(setting.FindString(a)):]
			os.Setenv(k, v)
			continue
		}
		args = append(args, a)
	}
	os.Args = args
	os.Exit(mage.Main())
}
