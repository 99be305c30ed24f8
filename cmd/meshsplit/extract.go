package main

import (
	"fmt"
	"io"
)

// runExtract implements 'meshsplit extract'.
func runExtract(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "meshsplit extract: not built yet")
	return exitFailure
}
