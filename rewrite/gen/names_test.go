package gen

import "testing"

func TestNames(t *testing.T) {
	tests := []struct {
		iface, file, lower, switchFn string
	}{
		{"Service", "service_mesh.go", "service", "meshService"},
		{"OrderStore", "order_store_mesh.go", "orderStore", "meshOrderStore"},
		{"HTTPClient", "http_client_mesh.go", "httpClient", "meshHTTPClient"},
		{"API", "api_mesh.go", "api", "meshAPI"},
		{"store", "store_mesh.go", "store", "meshStore"},
		{"V2Reader", "v2_reader_mesh.go", "v2Reader", "meshV2Reader"},
	}
	for _, tt := range tests {
		if got := FileName(tt.iface); got != tt.file {
			t.Errorf("FileName(%q) = %q, want %q", tt.iface, got, tt.file)
		}
		if got := lowerFirst(tt.iface); got != tt.lower {
			t.Errorf("lowerFirst(%q) = %q, want %q", tt.iface, got, tt.lower)
		}
		if got := SwitchName(tt.iface); got != tt.switchFn {
			t.Errorf("SwitchName(%q) = %q, want %q", tt.iface, got, tt.switchFn)
		}
	}
}

func TestExpr(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{expr{s: "v", ptr: true}.field("Name").val(), "v.Name"},
		{expr{s: "v", ptr: true}.index("i0").val(), "(*v)[i0]"},
		{expr{s: "m.P", ptr: true}.val(), "*m.P"},
		{expr{s: "*v", ptr: true}.field("X").val(), "(*v).X"},
		{expr{s: "*v", ptr: true}.index("i0").val(), "(**v)[i0]"},
		{expr{s: "m.R0"}.index("k0").addr(), "&m.R0[k0]"},
		{expr{s: "m.O", ptr: true}.addr(), "m.O"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestFieldName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"id", "Id"},
		{"ID", "ID"},
		{"été", "Été"},
		{"ñame", "Ñame"},
		{"名前", "F名前"},
		{"_x", "F_x"},
		{"x_", "X_"},
	}
	for _, tt := range tests {
		if got := FieldName(tt.name); got != tt.want {
			t.Errorf("FieldName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLocals(t *testing.T) {
	tests := []struct {
		scope          []string
		m, req, v      string
		i0, v1, hasPkg string // loop variables of depth 0 and 1; a name has() must report
	}{
		{nil, "m", "req", "v", "i0", "v1", "e"},
		{[]string{"m", "req", "v"}, "m2", "req2", "v2", "i0", "vx1", "v2"},
		{[]string{"i0", "k3"}, "m", "req", "v", "ix0", "v1", "ix7"},
		{[]string{"m", "m2"}, "m3", "req", "v", "i0", "v1", "m3"},
	}
	for _, tt := range tests {
		scope := nameSet{}
		for _, n := range tt.scope {
			scope[n] = true
		}
		l := newLocals(scope)
		i0, _, _, _ := l.loop(0)
		_, _, v1, _ := l.loop(1)
		got := []string{l.m, l.req, l.v, i0, v1}
		want := []string{tt.m, tt.req, tt.v, tt.i0, tt.v1}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("scope %v: locals %v, want %v", tt.scope, got, want)
				break
			}
		}
		if !l.has(tt.hasPkg) {
			t.Errorf("scope %v: has(%q) = false", tt.scope, tt.hasPkg)
		}
		for n := range scope {
			if l.names[n] {
				t.Errorf("scope %v: a local is spelled %q", tt.scope, n)
			}
		}
	}
}
