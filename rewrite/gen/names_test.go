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
