package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyVerdicts runs verify on the fixture modules of
// testdata/verify, one per verdict, each copied, extracted with -w and
// verified in parallel, and checks the exit code and the lines that say
// why.
func TestVerifyVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs each fixture's tests twice")
	}
	offlineEnv(t)
	type run struct {
		args    []string // after verify -C <copy>
		code    int
		want    []string
		notWant []string
	}
	tests := []struct {
		name, iface string
		before      *run // before extract
		after       []run
	}{
		{
			name: "notes", iface: "notes.Store",
			before: &run{code: exitFailure, want: []string{
				"verify example.com/notes/notes.Store: not extracted: example.com/notes has no generated notes/store_mesh.go, so there is nothing to verify; run 'meshsplit extract -C ",
				" -iface notes.Store -w' first\n",
			}},
			after: []run{{code: 3, want: []string{
				"example.com/notes/api    2 pass  2 pass  0\n",
				"Save    0      -       -       -           never exercised remotely\n",
				"the tests build the implementation without a switched constructor here:\n",
				"  api/api_test.go:36: a test double *api.fakeStore used as Store (field), not the switched constructor's value\n",
				"  api/api_test.go:45: a test double *api.fakeStore used as Store (argument), not the switched constructor's value\n",
				"  notes/store_test.go:10: memStore{...} builds the implementation directly\n",
				"UNPROVEN (exit 3): no call of example.com/notes/notes.Store crossed the mesh in the remote run",
			}, notWant: []string{"no test differs", "ok:"}}},
		},
		{
			name: "ledger", iface: "ledger.Book",
			after: []run{{code: exitOK, want: []string{
				"example.com/ledger/ledger  5 pass          3 pass, 2 FAIL  0\n",
				"example.com/ledger/report  0 pass, 1 FAIL  0 pass, 1 FAIL  0       fails in both runs\n",
				"Accounts  0      -       -       -           never exercised remotely\n",
				"Balance   5      0       ",
				"Post      5      3       ",
				"warning: 4 of 6 methods never exercised remotely: Accounts, Close, History, Void",
				"explained differences (not failing: the value compared exists only in test code):\n",
				"  example.com/ledger/ledger.TestCheckFailure: ledgertest.ErrInjected (internal/ledgertest/ledgertest.go:11) is declared in example.com/ledger/internal/ledgertest, a package only test code imports, and compared by identity at ledger/check_test.go:15;",
				"  example.com/ledger/ledger.TestFrozenAccount: errFrozen (ledger/book_test.go:10) is declared in test code and compared by identity at ledger/book_test.go:44;",
				"in production that value would not exist on the far side\n",
				"fails in both runs (not caused by the split):\n  example.com/ledger/report.TestBalances: report_test.go:26: Balances =\n",
				"ok: the tests agree, and 10 call(s) of 2 of 6 methods crossed the mesh (2 explained difference(s))\n",
			}, notWant: []string{"differ:\n"}}, {args: []string{"-strict", "-json"}, code: 3}},
		},
		{
			name: "clinic", iface: "clinic.Scheduler",
			after: []run{{code: exitFailure, want: []string{
				"example.com/clinic/clinic  4 pass  1 pass, 3 FAIL  3\n",
				"Watch   1      0       ",
				"3 differ:\n",
				"  example.com/clinic/clinic.TestBookKeepsTime: local Pass, remote Fail\n      time.Time compared with != at clinic/scheduler_test.go:20 after crossing: its location is not UTC or Local (time.FixedZone at clinic/scheduler_test.go:11), and the decoded time carries an equal but distinct *time.Location, so == is false; compare with Equal\n",
				"      first failure: scheduler_test.go:21: Book returned At = 2026-03-02 09:30:00 +0100 CET, want 2026-03-02 09:30:00 +0100 CET\n",
				"  example.com/clinic/clinic.TestMaxPerDay: local Pass, remote Fail\n      an any value whose dynamic type changed: PolicyError.Limit (clinic/scheduler.go:21) is an interface field of an error type, which crosses the wire as JSON,",
				"the test reads it at clinic/scheduler_test.go:50;",
				"      first failure: scheduler_test.go:51: PolicyError.Limit = 2 (float64), want 2\n",
				"  example.com/clinic/clinic.TestWatchSeesCancel: local Pass, remote Fail\n      a write through a pointer the caller keeps: clinic/scheduler_test.go:62 passes &a (*Appointment) to Watch;",
				"FAIL: 3 test(s) differ between the runs\n",
			}, notWant: []string{"pointer aliasing", "explained differences"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mod := copyModule(t, filepath.Join(repoRoot(t), "testdata", "verify", tt.name))
			check := func(r run) string {
				t.Helper()
				args := append([]string{"verify", "-C", mod, "-iface", tt.iface}, r.args...)
				code, stdout, stderr := meshsplit(args...)
				if code != r.code {
					t.Fatalf("meshsplit %s: exit %d, want %d\n%s%s", strings.Join(r.args, " "), code, r.code, stdout, stderr)
				}
				for _, w := range r.want {
					if !strings.Contains(stdout, w) {
						t.Errorf("verify %s output lacks %q:\n%s", strings.Join(r.args, " "), w, stdout)
					}
				}
				for _, w := range r.notWant {
					if strings.Contains(stdout, w) {
						t.Errorf("verify %s output has %q:\n%s", strings.Join(r.args, " "), w, stdout)
					}
				}
				return stdout
			}
			if tt.before != nil {
				check(*tt.before)
			}
			if code, stdout, stderr := meshsplit("extract", "-C", mod, "-iface", tt.iface, "-w"); code != exitOK {
				t.Fatalf("extract -w: exit %d\n%s%s", code, stdout, stderr)
			}
			for _, r := range tt.after {
				out := check(r)
				if tt.name == "ledger" && strings.Contains(strings.Join(r.args, " "), "-json") {
					checkLedgerJSON(t, out)
				}
			}
		})
	}
}

// checkLedgerJSON checks verify -strict -json on the ledger fixture: the
// same facts as the text, for programs.
func checkLedgerJSON(t *testing.T, out string) {
	t.Helper()
	var rep struct {
		Seam        string `json:"seam"`
		Verdict     string `json:"verdict"`
		ExitCode    int    `json:"exit_code"`
		Crossed     int    `json:"crossed"`
		Unexercised []string
		Traffic     []struct {
			Method string   `json:"method"`
			Calls  int      `json:"calls"`
			Errors int      `json:"errors"`
			Median int64    `json:"median_ns"`
			Sites  []string `json:"sites"`
		} `json:"traffic"`
		Explained   []struct{ Test, Explained string }  `json:"explained"`
		FailsInBoth []struct{ Test, FirstError string } `json:"fails_in_both"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify -json: %v\n%s", err, out)
	}
	if rep.Seam != "example.com/ledger/ledger.Book" || rep.Verdict != "unexercised" || rep.ExitCode != 3 || rep.Crossed != 10 {
		t.Errorf("verify -strict -json: seam %q verdict %q exit %d crossed %d", rep.Seam, rep.Verdict, rep.ExitCode, rep.Crossed)
	}
	if strings.Join(rep.Unexercised, ",") != "Accounts,Close,History,Void" {
		t.Errorf("unexercised = %v", rep.Unexercised)
	}
	if len(rep.Traffic) != 6 || rep.Traffic[1].Method != "Balance" || rep.Traffic[1].Calls != 5 || rep.Traffic[1].Median <= 0 || len(rep.Traffic[4].Sites) != 5 || rep.Traffic[4].Errors != 3 {
		t.Errorf("traffic = %+v", rep.Traffic)
	}
	for _, s := range rep.Traffic[4].Sites {
		if !strings.HasPrefix(s, "ledger/") && !strings.HasPrefix(s, "report/") {
			t.Errorf("Post call site %q is not a module-relative test file:line", s)
		}
	}
	if len(rep.Explained) != 2 || len(rep.FailsInBoth) != 1 || rep.FailsInBoth[0].Test != "TestBalances" {
		t.Errorf("explained %+v, fails in both %+v", rep.Explained, rep.FailsInBoth)
	}
}
