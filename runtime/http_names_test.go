package runtime

import "testing"

// TestHTTPPathServiceNames calls methods on the HTTP path by every name
// MESHRPC_REMOTE accepts for a service (full name, a suffix after a slash,
// Package.Iface), and checks that a name selecting two services is refused
// with both named.
func TestHTTPPathServiceNames(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	other := greeterDesc
	other.Name = "example.com/other/greet.Greeter" // shares the suffix "greet.Greeter"
	fleet := greeterDesc
	fleet.Name, fleet.Package = "example.com/fleet.Tracker", "cargo"
	for _, d := range []*ServiceDesc{&other, &fleet} {
		if err := srv.Publish(d, impl); err != nil {
			t.Fatal(err)
		}
	}
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	direct := nodeHTTPClient(caller, srv.ID())

	tests := []struct {
		name   string
		path   string
		status int
		want   []string
	}{
		{"full name", "/" + greeterName + "/Greet", 200, []string{`"r0":"hello Max"`}},
		{"suffix after a slash", "/test/greet.Greeter/Greet", 200, []string{`"r0":"hello Max"`}},
		{"Package.Iface", "/cargo.Tracker/Greet", 200, []string{`"r0":"hello Max"`}},
		{"last element of the path", "/fleet.Tracker/Greet", 200, []string{`"r0":"hello Max"`}},
		{"ambiguous suffix", "/greet.Greeter/Greet", 404, []string{`"code":"ambiguous_service"`, greeterName, other.Name}},
		{"suffix not after a slash", "/reet.Greeter/Greet", 404, []string{`"code":"unknown_service"`}},
		{"unknown method by suffix", "/test/greet.Greeter/Nope", 404, []string{`"code":"unknown_method"`, greeterName}},
		{"package name alone", "/cargo/Greet", 404, []string{`"code":"unknown_service"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			httpCase(t, direct, "POST", tc.path, `{"name":"Max"}`, nil, tc.status, tc.want)
		})
	}
}
