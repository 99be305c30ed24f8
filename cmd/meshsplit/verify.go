package main

import (
	"fmt"
	"io"
)

// runVerify implements 'meshsplit verify'.
func runVerify(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "meshsplit verify: not built yet")
	return exitFailure
}
