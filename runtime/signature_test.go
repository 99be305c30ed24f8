package runtime

import (
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"time"
)

type sigItem struct{}

func TestTypeName(t *testing.T) {
	const pkg = "github.com/meshsplit/meshsplit/runtime"
	tests := []struct {
		v    any
		want string
	}{
		{"", "string"},
		{time.Duration(0), "time.Duration"},
		{[]*sigItem{}, "[]*" + pkg + ".sigItem"},
		{map[string][2]int{}, "map[string][2]int"},
		{[]byte{}, "[]uint8"},
		{(*error)(nil), "*error"},
		{make(chan<- int), "chan<- int"},
	}
	for _, tt := range tests {
		if got := typeName(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("typeName(%T) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestHeartbeatListsParamAndResultNamesAndTypes reads GET /__heartbeat__
// as a client in another language would, and finds there what the HTTP
// path's bodies are keyed by.
func TestHeartbeatListsParamAndResultNamesAndTypes(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	resp, err := nodeHTTPClient(caller, srv.ID()).Get("http://mesh/__heartbeat__")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var hb struct {
		Services []ServiceInfo `json:"services"`
	}
	if err := json.Unmarshal(body, &hb); err != nil || len(hb.Services) != 1 {
		t.Fatalf("heartbeat %s: %v", body, err)
	}
	got := map[string]MethodInfo{}
	for _, m := range hb.Services[0].Methods {
		got[m.Name] = m
	}
	want := map[string]MethodInfo{
		"Greet": {Name: "Greet", Fingerprint: "greet-1", Params: []string{"name"}, ParamTypes: []string{"string"}, Results: []string{"r0"}, ResultTypes: []string{"string"}},
		"Sleep": {Name: "Sleep", Fingerprint: "sleep-1", Params: []string{"d"}, ParamTypes: []string{"time.Duration"}, Results: []string{}, ResultTypes: []string{}},
		"Echo":  {Name: "Echo", Fingerprint: "echo-1", Params: []string{"data"}, ParamTypes: []string{"[]uint8"}, Results: []string{"r0"}, ResultTypes: []string{"[]uint8"}},
	}
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("method %s: %+v, want %+v (heartbeat %s)", name, got[name], w, body)
		}
	}
}
