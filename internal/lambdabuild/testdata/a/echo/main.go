// Command echo prints "a": a package whose binary name it shares with testdata/b/echo.
package main

import "fmt"

func main() { fmt.Print("a") }
