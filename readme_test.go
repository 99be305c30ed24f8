//go:build unix

package meshsplit_test

// This file keeps README.md honest: TestReadmeWalkthrough runs the
// walkthrough's commands as a reader would type them, in real shells, and
// compares what they print with the output the README shows. It builds on
// unix only: the walkthrough is written for a POSIX shell, and the test
// uses process groups.
//
// The README marks what is checked with HTML comments, invisible once
// rendered, placed just before a ```console block:
//
//	<!-- check shell=main -->           run every "$ " command of the block in shell "main"
//	<!-- check shell=main retry -->     the same, run again until it matches (bounded)
//	<!-- check shell=t1 start=svc -->   the block's last command keeps running: start it as
//	                                    process "svc" and wait until it has printed the output shown
//	<!-- check stop=svc -->             (no block) press Ctrl-C: SIGINT to svc's process group
//
// A shell is one bash process that lives for the whole test, so that cd and
// export carry over from one command to the next, as in a terminal. A
// command ending in a here-document (<<'EOF') takes the lines up to EOF.
// The other lines of a block are the expected output (stdout and stderr as
// they interleave); a line "..." stands for any number of lines.
// Timestamps and HTTP Date headers are masked on both sides, "/tmp/" is
// replaced by a temporary directory and the README's fixed 127.0.0.1 ports
// by free ones, so the test never touches the reader's /tmp or ports.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds of the walkthrough's steps: generous, since the machine running
// the tests may be busy; a step that needs longer is a bug worth a failure.
const (
	commandTimeout = 6 * time.Minute  // one foreground command (verify runs the shop's tests twice)
	startTimeout   = 4 * time.Minute  // a background command printing its first lines (go run compiles)
	stopTimeout    = 30 * time.Second // a background command exiting after SIGINT
	retryTimeout   = 20 * time.Second // a "retry" block until its output matches
	retryInterval  = 200 * time.Millisecond
)

// readmePorts are the fixed addresses the README uses; the test replaces
// each with a free port on 127.0.0.1.
var readmePorts = []string{"127.0.0.1:12001", "127.0.0.1:8080", "127.0.0.1:8282"}

// step is one checked part of the README: a console block with its
// directive, or a stop directive alone.
type step struct {
	line     int    // line of the directive in README.md
	shell    string // shell to run in
	start    string // name of the background process the last command becomes
	stop     string // name of the background process to interrupt
	retry    bool   // run the block again until it matches
	commands []command
}

// command is one "$ " line (with its here-document) and the output shown
// below it.
type command struct {
	line    int // line of the "$ " in README.md
	text    string
	output  []string
	outLine int // line of output[0] in README.md
}

var directiveRE = regexp.MustCompile(`^<!--\s*check\s+(.*?)\s*-->\s*$`)

// parseReadme returns the checked steps of a README, in order.
func parseReadme(text string) ([]step, error) {
	lines := strings.Split(text, "\n")
	var steps []step
	for i := 0; i < len(lines); i++ {
		m := directiveRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		s := step{line: i + 1}
		for _, f := range strings.Fields(m[1]) {
			key, val, _ := strings.Cut(f, "=")
			switch key {
			case "shell":
				s.shell = val
			case "start":
				s.start = val
			case "stop":
				s.stop = val
			case "retry":
				s.retry = true
			default:
				return nil, fmt.Errorf("README.md:%d: unknown check directive %q", i+1, f)
			}
		}
		if s.stop != "" {
			steps = append(steps, s)
			continue
		}
		if s.shell == "" {
			return nil, fmt.Errorf("README.md:%d: check directive without shell=", i+1)
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```console" {
			return nil, fmt.Errorf("README.md:%d: check directive not followed by a ```console block", i+1)
		}
		i += 2
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			line := lines[i]
			if cmd, ok := strings.CutPrefix(line, "$ "); ok {
				c := command{line: i + 1, text: cmd}
				if _, tag, ok := strings.Cut(cmd, "<<"); ok {
					tag = strings.Trim(strings.TrimSpace(tag), `'"`)
					for i++; i < len(lines) && lines[i] != tag; i++ {
						c.text += "\n" + lines[i]
					}
					if i == len(lines) {
						return nil, fmt.Errorf("README.md:%d: here-document never ends with %q", c.line, tag)
					}
					c.text += "\n" + tag
				}
				s.commands = append(s.commands, c)
				continue
			}
			if len(s.commands) == 0 {
				return nil, fmt.Errorf("README.md:%d: output before the first \"$ \" command", i+1)
			}
			last := &s.commands[len(s.commands)-1]
			if len(last.output) == 0 {
				last.outLine = i + 1
			}
			last.output = append(last.output, line)
		}
		if i == len(lines) {
			return nil, fmt.Errorf("README.md:%d: console block never ends", s.line)
		}
		if len(s.commands) == 0 {
			return nil, fmt.Errorf("README.md:%d: checked block has no \"$ \" command", s.line)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// maskRE matches what differs from run to run: RFC 3339 timestamps and
// HTTP Date headers.
var maskRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)|^Date: .*$`)

// durationRE matches a measured duration ("35µs", "1.2ms") and the
// blanks that align the table column it sits in (verify's median).
var durationRE = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s)\b *`)

// normalize prepares output lines for comparison: carriage returns and
// trailing blanks go, timestamps are masked, and trailing empty lines are
// dropped.
func normalize(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		l = durationRE.ReplaceAllString(maskRE.ReplaceAllString(l, "<time>"), "<duration> ")
		out = append(out, strings.TrimRight(l, " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// matchLines reports whether got matches want, where a line "..." of want
// stands for any number of lines of got. With prefix, got may go on after
// want ends.
func matchLines(want, got []string, prefix bool) bool {
	// ok[j]: want[i:] matches got[j:], for i going down from len(want).
	ok := make([]bool, len(got)+1)
	for j := range ok {
		ok[j] = prefix || j == len(got)
	}
	for i := len(want) - 1; i >= 0; i-- {
		next := ok
		ok = make([]bool, len(got)+1)
		for j := len(got); j >= 0; j-- {
			if want[i] == "..." {
				// skip no line of got, or one and stay on the "..."
				ok[j] = next[j] || (j < len(got) && ok[j+1])
			} else {
				ok[j] = j < len(got) && got[j] == want[i] && next[j+1]
			}
		}
	}
	return ok[0]
}

// firstMismatch returns the index of the first line of want that got
// cannot match: the end of the longest beginning of want that matches a
// beginning of got. It returns len(want) when want is a beginning of got.
func firstMismatch(want, got []string) int {
	for k := len(want); k > 0; k-- {
		if matchLines(want[:k], got, true) {
			return k
		}
	}
	return 0
}

func TestMatchLines(t *testing.T) {
	tests := []struct {
		name      string
		want, got []string
		prefix    bool
		match     bool
	}{
		{"equal", []string{"a", "b"}, []string{"a", "b"}, false, true},
		{"empty both", nil, nil, false, true},
		{"missing line", []string{"a", "b"}, []string{"a"}, false, false},
		{"extra line", []string{"a"}, []string{"a", "b"}, false, false},
		{"extra line, prefix", []string{"a"}, []string{"a", "b"}, true, true},
		{"changed line", []string{"a", "b"}, []string{"a", "c"}, false, false},
		{"dots skip none", []string{"a", "...", "b"}, []string{"a", "b"}, false, true},
		{"dots skip some", []string{"a", "...", "d"}, []string{"a", "b", "c", "d"}, false, true},
		{"dots at end", []string{"a", "..."}, []string{"a", "b", "c"}, false, true},
		{"dots at start", []string{"...", "c"}, []string{"a", "b", "c"}, false, true},
		{"dots cannot reorder", []string{"b", "...", "a"}, []string{"a", "b"}, false, false},
		{"two gaps", []string{"a", "...", "c", "...", "e"}, []string{"a", "b", "c", "d", "e"}, false, true},
		{"two gaps, missing middle", []string{"a", "...", "x", "...", "e"}, []string{"a", "b", "c", "d", "e"}, false, false},
		{"only dots", []string{"..."}, nil, false, true},
		{"want after got ends", []string{"a", "...", "b"}, []string{"a"}, true, false},
		{"many gaps over many lines", manyGaps(12), manyLines(2000), false, true},
		{"many gaps, last line wrong", append(manyGaps(12), "nope"), manyLines(2000), false, false},
	}
	for _, tt := range tests {
		if got := matchLines(tt.want, tt.got, tt.prefix); got != tt.match {
			t.Errorf("%s: matchLines(%d lines, %d lines, prefix %v) = %v, want %v", tt.name, len(tt.want), len(tt.got), tt.prefix, got, tt.match)
		}
	}
}

// manyLines returns n numbered lines; manyGaps a pattern of n+1 "..."
// lines with every 100th line between them, which backtracking would take
// ages to reject.
func manyLines(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprint("line ", i))
	}
	return out
}

func manyGaps(n int) []string {
	var out []string
	for i := range n {
		out = append(out, "...", fmt.Sprint("line ", i*100))
	}
	return append(out, "...")
}

func TestFirstMismatch(t *testing.T) {
	got := []string{"a", "b", "c", "d"}
	tests := []struct {
		want []string
		idx  int
	}{
		{[]string{"a", "b"}, 2},
		{[]string{"a", "x", "c"}, 1},
		{[]string{"x"}, 0},
		{[]string{"a", "...", "d", "e"}, 3},
		{[]string{"a", "...", "c", "x", "d"}, 3},
		{nil, 0},
	}
	for _, tt := range tests {
		if idx := firstMismatch(tt.want, got); idx != tt.idx {
			t.Errorf("firstMismatch(%q, %q) = %d, want %d", tt.want, got, idx, tt.idx)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"HTTP/1.1 200 OK\r", "Date: Wed, 25 Nov 2026 16:23:37 GMT\r", "", ""}, []string{"HTTP/1.1 200 OK", "<time>"}},
		{[]string{`time=2026-11-25T16:23:37.683Z level=INFO msg="shop listening"`}, []string{`time=<time> level=INFO msg="shop listening"`}},
		{[]string{`{"created_at":"2026-11-25T17:23:40.28+01:00"}  `}, []string{`{"created_at":"<time>"}`}},
		{[]string{"no time here", "2026-11-25 is a date only"}, []string{"no time here", "2026-11-25 is a date only"}},
		{[]string{"Levels   75     0   29µs    3", "Reserve  35     9   105µs   6", "took 1.25ms"}, []string{"Levels   75     0   <duration> 3", "Reserve  35     9   <duration> 6", "took <duration>"}},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseReadme(t *testing.T) {
	text := strings.Join([]string{
		"# title",
		"<!-- check shell=main -->",
		"```console",
		"$ echo hi",
		"hi",
		"$ cat > f <<'EOF'",
		"$ not a command",
		"EOF",
		"$ true",
		"```",
		"<!-- check stop=svc -->",
		"<!-- check shell=t1 start=svc retry -->",
		"```console",
		"$ serve",
		"...",
		"```",
	}, "\n")
	steps, err := parseReadme(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 {
		t.Fatalf("got %d steps, want 3: %+v", len(steps), steps)
	}
	first := steps[0]
	if first.shell != "main" || len(first.commands) != 3 {
		t.Fatalf("first step = %+v, want shell main and 3 commands", first)
	}
	if c := first.commands[0]; c.text != "echo hi" || strings.Join(c.output, "|") != "hi" || c.line != 4 {
		t.Errorf("first command = %+v, want echo hi at line 4 printing hi", c)
	}
	if c := first.commands[1]; c.text != "cat > f <<'EOF'\n$ not a command\nEOF" || len(c.output) != 0 {
		t.Errorf("here-document command = %+v", c)
	}
	if s := steps[1]; s.stop != "svc" || len(s.commands) != 0 {
		t.Errorf("stop step = %+v", s)
	}
	if s := steps[2]; s.shell != "t1" || s.start != "svc" || !s.retry || s.commands[0].text != "serve" {
		t.Errorf("start step = %+v", s)
	}

	bad := []struct{ name, text string }{
		{"unknown directive", "<!-- check shell=a colour=red -->\n```console\n$ x\n```"},
		{"no shell", "<!-- check retry -->\n```console\n$ x\n```"},
		{"no block", "<!-- check shell=a -->\ntext"},
		{"unterminated block", "<!-- check shell=a -->\n```console\n$ x"},
		{"unterminated here-document", "<!-- check shell=a -->\n```console\n$ cat <<EOF\nx\n```"},
		{"output first", "<!-- check shell=a -->\n```console\nout\n$ x\n```"},
		{"empty block", "<!-- check shell=a -->\n```console\n```"},
	}
	for _, b := range bad {
		if _, err := parseReadme(b.text); err == nil {
			t.Errorf("%s: parseReadme accepted %q", b.name, b.text)
		}
	}
}

// TestReadmeWalkthrough runs every checked step of README.md in order.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("the walkthrough builds and runs the shop several times: skipped with -short")
	}
	for _, tool := range []string{"bash", "curl", "cp", "cat", "grep", "ls", "rm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s, not found: %v", tool, err)
		}
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	text := strings.ReplaceAll(string(data), "/tmp/", tmp+"/")
	for _, addr := range readmePorts {
		text = strings.ReplaceAll(text, addr, freeAddr(t))
	}
	steps, err := parseReadme(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 {
		t.Fatal("README.md has no checked step")
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	shopBefore := treeDigest(t, filepath.Join(root, "testdata", "shop"))
	// The walkthrough's go command is kept off the network: the modules the
	// shop gains (the runtime module's requirements) must be in the module
	// cache first. Building this module does not bring them (the workspace
	// may select newer versions), so ask for them, with the network the test
	// was given.
	download := exec.Command("go", "mod", "download")
	download.Dir = filepath.Join(root, "runtime")
	download.Env = append(os.Environ(), "GOWORK=off")
	if out, err := download.CombinedOutput(); err != nil {
		t.Fatalf("go mod download in runtime/ (the walkthrough needs the runtime's requirements in the module cache): %v\n%s", err, out)
	}
	// verify keeps the traffic for impact under the test's directory, not
	// the user's cache.
	env := append(walkthroughEnv(), "MESHSPLIT_TRAFFIC_DIR="+filepath.Join(tmp, "meshsplit-traffic"))
	w := &walkthrough{t: t, root: root, tmp: tmp, env: env, shells: map[string]*shell{}, procs: map[string]*process{}}
	t.Cleanup(w.close)
	completed := true
	for _, s := range steps {
		if !w.run(s) {
			completed = false
			break // later steps depend on this one
		}
	}
	if shopBefore != treeDigest(t, filepath.Join(root, "testdata", "shop")) {
		t.Error("the walkthrough changed testdata/shop: it must work on a copy")
	}
	for name, p := range w.procs {
		if completed && !p.exited() {
			t.Errorf("process %s (README.md:%d) is still running at the end of the walkthrough: the README should stop it", name, p.line)
		}
	}
}

// treeDigest returns a SHA-256 over the names, modes and contents of the
// files under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", path, info.Mode())
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%d\n", len(data))
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// difference says where the output shown in the README stops matching got.
func (c command) difference(got []string) string {
	want, g := normalize(c.output), normalize(got)
	i := firstMismatch(want, g)
	if i == len(want) {
		return fmt.Sprintf("the README shows %d line(s) and the command printed more", len(c.output))
	}
	return fmt.Sprintf("first line of the README that the output does not match: README.md:%d: %s", c.outLine+i, c.output[i])
}

// freeAddr returns a 127.0.0.1 address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// walkthroughEnv is the environment of the shells: the test's own, without
// the variables that would change what the commands do, and with the go
// command kept off the network (the module cache already holds what the
// shop needs once this module's tests build).
func walkthroughEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "MESHRPC_") || strings.HasPrefix(name, "SHOP_") {
			continue
		}
		switch name {
		case "GOPROXY", "GOSUMDB", "GOWORK", "GOTOOLCHAIN", "NO_COLOR", "TERM":
			continue
		}
		env = append(env, kv)
	}
	// GOWORK stays unset: the go command finds the repository's go.work
	// (which resolves the runtime module) in the clone, and none in /tmp.
	return append(env, "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "TERM=dumb")
}

// walkthrough holds the shells and background processes of one run.
type walkthrough struct {
	t      *testing.T
	root   string // the checkout: where every shell starts
	tmp    string // stands in for /tmp
	env    []string
	shells map[string]*shell
	procs  map[string]*process
}

// run performs one step and reports whether it went as the README says.
func (w *walkthrough) run(s step) bool {
	t := w.t
	if s.stop != "" {
		p := w.procs[s.stop]
		if p == nil {
			t.Errorf("README.md:%d: stop=%s: no process of that name was started", s.line, s.stop)
			return false
		}
		if err := p.interrupt(stopTimeout); err != nil {
			t.Errorf("README.md:%d: Ctrl-C to %s (README.md:%d): %v\noutput:\n%s", s.line, s.stop, p.line, err, p.output())
			return false
		}
		return true
	}
	sh, err := w.shell(s.shell)
	if err != nil {
		t.Errorf("README.md:%d: %v", s.line, err)
		return false
	}
	commands := s.commands
	if s.start != "" {
		commands = commands[:len(commands)-1]
	}
	deadline := time.Now().Add(retryTimeout)
	for {
		mismatch := ""
		for _, c := range commands {
			got, err := sh.run(c.text, commandTimeout)
			if err != nil {
				t.Errorf("README.md:%d: $ %s: %v", c.line, c.text, err)
				return false
			}
			if want := normalize(c.output); !matchLines(want, normalize(got), false) {
				mismatch = fmt.Sprintf("README.md:%d: $ %s\n%s\n--- the command printed:\n%s", c.line, c.text, c.difference(got), strings.Join(got, "\n"))
				break
			}
		}
		if mismatch == "" {
			break
		}
		if !s.retry || time.Now().After(deadline) {
			t.Error(mismatch)
			return false
		}
		time.Sleep(retryInterval) // the block is polled: its output is the condition
	}
	if s.start == "" {
		return true
	}
	c := s.commands[len(s.commands)-1]
	dir, env, err := sh.state()
	if err != nil {
		t.Errorf("README.md:%d: %v", c.line, err)
		return false
	}
	p, err := startProcess(c.line, c.text, dir, env)
	if err != nil {
		t.Errorf("README.md:%d: $ %s: %v", c.line, c.text, err)
		return false
	}
	w.procs[s.start] = p
	want := normalize(c.output)
	if err := p.waitOutput(func(got []string) bool { return matchLines(want, normalize(got), true) }, startTimeout); err != nil {
		t.Errorf("README.md:%d: $ %s: %v\n%s\n--- the command printed:\n%s", c.line, c.text, err, c.difference(strings.Split(p.output(), "\n")), p.output())
		return false
	}
	return true
}

// shell returns the shell of the given name, starting it in the checkout
// on first use.
func (w *walkthrough) shell(name string) (*shell, error) {
	if sh := w.shells[name]; sh != nil {
		return sh, nil
	}
	sh, err := startShell(w.root, w.env, filepath.Join(w.tmp, ".readme-test-"+name))
	if err != nil {
		return nil, fmt.Errorf("starting shell %s: %w", name, err)
	}
	w.shells[name] = sh
	return sh, nil
}

// close kills whatever is still running.
func (w *walkthrough) close() {
	for _, p := range w.procs {
		p.kill()
	}
	for _, sh := range w.shells {
		sh.close()
	}
}

// shell is a bash process reading commands from a pipe.
type shell struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string // stdout and stderr, line by line; closed when bash exits
	scratch string      // a file name the shell may use for state()
}

// doneMark ends every command's output; the exit status follows it.
const doneMark = "__readme_test_done__"

func startShell(dir string, env []string, scratch string) (*shell, error) {
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	pw.Close()
	sh := &shell{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), scratch: scratch}
	go func() {
		defer close(sh.lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			sh.lines <- sc.Text()
		}
		pr.Close()
	}()
	return sh, nil
}

// run runs one command (its stdin is /dev/null) and returns what it
// printed. The command's exit status is not checked: the README shows what
// a failing command prints.
func (sh *shell) run(command string, timeout time.Duration) ([]string, error) {
	script := fmt.Sprintf("{ %s\n} </dev/null 2>&1\nprintf '\\n%s %%d\\n' $?\n", command, doneMark)
	if _, err := io.WriteString(sh.stdin, script); err != nil {
		return nil, fmt.Errorf("writing to the shell: %w", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var out []string
	for {
		select {
		case line, ok := <-sh.lines:
			if !ok {
				return out, errors.New("the shell exited")
			}
			if strings.HasPrefix(line, doneMark+" ") {
				if n := len(out); n > 0 && out[n-1] == "" {
					out = out[:n-1] // the newline printf adds before the mark
				}
				return out, nil
			}
			out = append(out, line)
		case <-timer.C:
			return out, fmt.Errorf("still running after %v", timeout)
		}
	}
}

// state returns the shell's working directory and exported environment.
func (sh *shell) state() (string, []string, error) {
	out, err := sh.run(fmt.Sprintf("pwd; env -0 > %q", sh.scratch), time.Minute)
	if err != nil || len(out) != 1 {
		return "", nil, fmt.Errorf("reading the shell's state: %v %q", err, out)
	}
	data, err := os.ReadFile(sh.scratch)
	if err != nil {
		return "", nil, fmt.Errorf("reading the shell's state: %w", err)
	}
	env := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	return out[0], env, nil
}

func (sh *shell) close() {
	sh.stdin.Close()
	syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
	sh.cmd.Wait()
	for range sh.lines {
	}
}

// process is a command that keeps running, as in its own terminal: its own
// process group, so that Ctrl-C (SIGINT to the group) reaches go run's
// child too.
type process struct {
	line int // README.md line of its command
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited

	mu      sync.Mutex
	buf     []byte
	changed chan struct{} // receives after each write (capacity 1)
}

func startProcess(line int, command, dir string, env []string) (*process, error) {
	p := &process{line: line, done: make(chan struct{}), changed: make(chan struct{}, 1)}
	p.cmd = exec.Command("bash", "--noprofile", "--norc", "-c", command)
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Write collects the output and signals the change.
func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.buf = append(p.buf, b...)
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
	return len(b), nil
}

// output returns what the process printed so far.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.buf)
}

// waitOutput waits until ok accepts the complete lines printed so far.
func (p *process) waitOutput(ok func([]string) bool, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		out := p.output()
		if i := strings.LastIndexByte(out, '\n'); i >= 0 && ok(strings.Split(out[:i], "\n")) {
			return nil
		}
		select {
		case <-p.changed:
		case <-p.done:
			if ok(strings.Split(strings.TrimSuffix(p.output(), "\n"), "\n")) {
				return errors.New("exited instead of running on")
			}
			return fmt.Errorf("exited (%v) without printing what the README shows", p.cmd.ProcessState)
		case <-timer.C:
			return fmt.Errorf("did not print what the README shows within %v", timeout)
		}
	}
}

// interrupt sends SIGINT to the process group, as Ctrl-C does, and waits
// for the process to exit.
func (p *process) interrupt(timeout time.Duration) error {
	if p.exited() {
		return fmt.Errorf("had already exited (%v)", p.cmd.ProcessState)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("SIGINT: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("still running %v after SIGINT", timeout)
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the whole process group and waits for the process: Ctrl-C
// first, so that go run reaps its child, then SIGKILL for whatever is left.
func (p *process) kill() {
	if !p.exited() {
		p.interrupt(stopTimeout)
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // go run's child too, even once go run exited
	<-p.done
}
