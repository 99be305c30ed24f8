package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/impact"
	"github.com/meshsplit/meshsplit/verify"
)

// writeHTMLMap writes the report's HTML seam map to name, with the traffic
// of every seam that has a verify report, and says so on w. The page
// replaces name only once it is complete.
func writeHTMLMap(rep *analyze.Report, name string, w io.Writer) error {
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf, analyze.HTMLOptions{Measured: measuredTraffic(rep, w)}); err != nil {
		return err
	}
	if err := writeFileAtomic(name, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(w, "meshsplit analyze: wrote the seam map of %d seams to %s\n", len(rep.Seams), name)
	return nil
}

// writeFileAtomic writes data to a temporary file beside name and renames
// it over name, so that a failure never leaves a half-written file.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, name)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, werr)
	}
	return nil
}

// measuredTraffic returns, by seam name, the traffic of the seams that
// have a verify report as fresh as the code; a stale one is named on w.
func measuredTraffic(rep *analyze.Report, w io.Writer) map[string]analyze.Measured {
	out := map[string]analyze.Measured{}
	for _, s := range rep.Seams {
		kept, _, err := verify.LoadTraffic(rep.Program.Root, s.Name)
		if err != nil {
			if !errors.Is(err, verify.ErrNoTraffic) {
				fmt.Fprintf(w, "meshsplit analyze: note: %v\n", err)
			}
			continue
		}
		f, _, err := verify.NewerSource(rep.Program.Root, kept.Taken)
		if err != nil {
			fmt.Fprintf(w, "meshsplit analyze: note: %v\n", err)
			continue
		}
		if f != "" {
			fmt.Fprintf(w, "meshsplit analyze: note: the verify report of %s is older than %s: not shown; run 'meshsplit verify -iface %s' again\n", rep.ShortName(s), f, rep.ShortName(s))
			continue
		}
		out[s.Name] = impact.Measured(rep, s, kept)
	}
	return out
}
