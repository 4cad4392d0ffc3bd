//go:build ignore

// Zero-install entry point: `go run mage.go <target>` runs payhook's mage targets with the
// mage version pinned in go.mod, without installing mage. Settings are KEY=VALUE arguments
// (`go run mage.go deploy ENV=dev` is `ENV=dev go run mage.go deploy`); an unknown target,
// setting or missing argument is refused before anything runs (internal/targets).
package main

import (
	"fmt"
	"os"

	"github.com/magefile/mage/mage"

	"github.com/payhook/payhook/internal/targets"
)

func main() {
	cmd, err := targets.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mage:", err)
		os.Exit(2)
	}
	for k, v := range cmd.Settings {
		os.Setenv(k, v)
	}
	os.Args = append(append(os.Args[:1:1], cmd.Flags...), cmd.Targets...)
	os.Exit(mage.Main())
}
