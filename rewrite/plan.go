package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/meshsplit/meshsplit/analyze"
	"path/filepath"
	"sort"
	"strings"
)

// A Step is one line of a plan: an action the plan takes, a step left to
// the user, or a reason the plan is refused.
type Step struct {
	// Kind says what the step is about: "create", "change" and "remove"
	// for files; "constructor", "wrap", "go.mod", "service" for edits;
	// "manual" for what the user has to do; "refused" for a refusal.
	Kind string `json:"kind"`
	// Pos is "file:line" (relative to the module root, with slashes) or a
	// file name; empty when the step is about the whole module.
	Pos string `json:"pos,omitempty"`
	// Message says what happens, or what to do, in one line.
	Message string `json:"message"`
}

// String returns "pos: message" (or the message alone).
func (s Step) String() string {
	if s.Pos == "" {
		return s.Message
	}
	return s.Pos + ": " + s.Message
}

// A Plan is what extract (or -revert) would do to a module: the actions,
// the resulting file changes, the steps left to the user and, when the plan
// must not be applied, the reasons why.
type Plan struct {
	// Seam is the interface's qualified name, "import/path.Iface".
	Seam string
	// Root is the module's root directory.
	Root string
	// Revert is set for a plan made by -revert.
	Revert bool
	// Actions lists what the plan does, in order.
	Actions []Step
	// Manual lists what the plan leaves to the user.
	Manual []Step
	// Refusals lists every reason the plan is refused; a refused plan has
	// no changes and Apply refuses it.
	Refusals []Step
	// Changes are the files the plan creates, changes or removes, sorted by
	// path; files whose content would not change are left out.
	Changes []FileChange
	// TidyNeeded is set when go.mod gains or loses a requirement, so that
	// 'go mod tidy' has to run before building.
	TidyNeeded bool

	env      []string                   // of the go command, for Apply's type check
	progress func(string) (done func()) // Options.Progress
	prog     *analyze.Program           // the dry run's load, for Apply's type check
	ahead    *exportAhead               // the runtime's export data, for the same (Options.Write)
}

// Refused reports whether the plan must not be applied.
func (p *Plan) Refused() bool { return len(p.Refusals) > 0 }

// Rel returns path relative to the module root, with slashes.
func (p *Plan) Rel(path string) string {
	if rel, err := filepath.Rel(p.Root, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return path
}

// Diff returns the unified diff of every change, files sorted by path,
// coloured for a terminal when colour is set.
func (p *Plan) Diff(colour bool) string {
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(UnifiedDiff(p.Rel(c.Path), c.Old, c.New, colour))
	}
	return b.String()
}

// WriteText writes the plan for people: the refusals, or the actions and
// the manual steps, one per line.
func (p *Plan) WriteText(w *bytes.Buffer) {
	verb := "extract"
	if p.Revert {
		verb = "revert"
	}
	if p.Refused() {
		fmt.Fprintf(w, "%s %s refused:\n", verb, p.Seam)
		for _, s := range p.Refusals {
			fmt.Fprintf(w, "  %s\n", s)
		}
		return
	}
	if len(p.Changes) == 0 {
		// The actions explain changes; with none, they would be noise.
		fmt.Fprintf(w, "%s %s: nothing to do, the module is up to date\n", verb, p.Seam)
	} else {
		fmt.Fprintf(w, "%s %s: %d file(s) to write\n", verb, p.Seam, len(p.Changes))
		for _, s := range p.Actions {
			fmt.Fprintf(w, "  %-11s %s\n", s.Kind, s)
		}
	}
	if len(p.Manual) > 0 {
		fmt.Fprintf(w, "left to you:\n")
		for _, s := range p.Manual {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}

// jsonPlan is the -json form of a plan.
type jsonPlan struct {
	Seam       string     `json:"seam"`
	Revert     bool       `json:"revert,omitempty"`
	Refused    bool       `json:"refused"`
	Refusals   []Step     `json:"refusals,omitempty"`
	Actions    []Step     `json:"actions"`
	Manual     []Step     `json:"manual,omitempty"`
	Files      []jsonFile `json:"files"`
	TidyNeeded bool       `json:"tidy_needed"`
	Written    bool       `json:"written"`
}

type jsonFile struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Diff string `json:"diff"`
}

// MarshalJSONWritten returns the plan as indented JSON; written says
// whether the changes were applied.
func (p *Plan) MarshalJSONWritten(written bool) ([]byte, error) {
	jp := jsonPlan{
		Seam: p.Seam, Revert: p.Revert, Refused: p.Refused(), Refusals: p.Refusals,
		Actions: p.Actions, Manual: p.Manual, TidyNeeded: p.TidyNeeded, Written: written,
		Files: []jsonFile{},
	}
	if jp.Actions == nil {
		jp.Actions = []Step{}
	}
	for _, c := range p.Changes {
		jp.Files = append(jp.Files, jsonFile{Path: p.Rel(c.Path), Kind: c.Kind(), Diff: UnifiedDiff(p.Rel(c.Path), c.Old, c.New, false)})
	}
	return json.MarshalIndent(jp, "", "  ")
}

// sortChanges orders changes by path.
func sortChanges(cs []FileChange) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Path < cs[j].Path })
}
