//go:build ignore

// Zero-install entry point: `go run mage.go <target>` runs payhook's mage targets with the
// mage version pinned in go.mod, without installing mage.
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }
