package main

import (
	"fmt"
	"io"
)

// runAnalyze implements 'meshsplit analyze'.
func runAnalyze(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "meshsplit analyze: not built yet")
	return exitFailure
}
