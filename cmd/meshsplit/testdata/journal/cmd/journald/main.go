// Command journald appends its arguments to a topic and prints the topic
// back as JSON lines.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"example.com/journal/journal"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: journald topic [body...]")
		os.Exit(2)
	}
	ctx := context.Background()
	log := journal.New()
	for _, body := range os.Args[2:] {
		if _, err := log.Append(ctx, os.Args[1], body); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	r, err := log.Export(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer r.Close()
	io.Copy(os.Stdout, r)
}
