// Command echo prints "b": a package whose binary name it shares with testdata/a/echo.
package main

import "fmt"

func main() { fmt.Print("b") }
