package main

import (
	"fmt"
	"io"
)

// runGateway implements 'meshsplit gateway'.
func runGateway(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "meshsplit gateway: not built yet")
	return exitFailure
}
