package rewrite

import "testing"

func TestRequireRuntimeRoundTrip(t *testing.T) {
	tests := []struct{ name, gomod string }{
		{"replace only", "module example.com/shop\n\ngo 1.26\n\nreplace github.com/meshsplit/meshsplit => ../..\n"},
		{"with requires", "module example.com/shop\n\ngo 1.26\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v1.2.0\n)\n"},
		{"bare", "module example.com/shop\n\ngo 1.26\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, changed, err := requireRuntime("go.mod", []byte(tt.gomod))
			if err != nil || !changed {
				t.Fatalf("requireRuntime = %v, %v", changed, err)
			}
			again, changed, err := requireRuntime("go.mod", added)
			if err != nil || changed || string(again) != string(added) {
				t.Fatalf("second requireRuntime changed the file: %v %v\n%s", changed, err, again)
			}
			back, changed, err := dropRuntime("go.mod", added)
			if err != nil || !changed {
				t.Fatalf("dropRuntime = %v, %v", changed, err)
			}
			if string(back) != tt.gomod {
				t.Errorf("add then drop:\n%s", UnifiedDiff("go.mod", []byte(tt.gomod), back, false))
			}
		})
	}
}
