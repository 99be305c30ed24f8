package rewrite

import (
	"go/token"
	"go/types"
	"testing"
)

func TestServiceName(t *testing.T) {
	tests := []struct {
		pkg, iface, want string
	}{
		{"inventory", "Service", "inventory-svc"},
		{"catalog", "Catalog", "catalog-svc"},
		{"payments", "Gateway", "payments-gateway-svc"},
		{"translation", "TranslationWebAPI", "translation-translation-web-api-svc"},
		{"translation", "WebAPI", "translation-web-api-svc"},
		{"edge", "HTTPServer", "edge-http-server-svc"},
		{"orders", "OrderV2Store", "orders-order-v2-store-svc"},
		{"orders", "recorder", "orders-recorder-svc"},
		{"geo", "IDs", "geo-ids-svc"},
		{"web", "URLsByHost", "web-urls-by-host-svc"},
		{"café", "ÉtatStore", "café-état-store-svc"},
	}
	for _, tt := range tests {
		if got := serviceName(tt.pkg, tt.iface); got != tt.want {
			t.Errorf("serviceName(%q, %q) = %q, want %q", tt.pkg, tt.iface, got, tt.want)
		}
	}
}

func TestFieldNames(t *testing.T) {
	pkg := types.NewPackage("example.com/notify", "notify")
	named := func(name string) types.Type {
		return types.NewNamed(types.NewTypeName(token.NoPos, pkg, name, nil), types.NewInterfaceType(nil, nil), nil)
	}
	param := func(name string, t types.Type) *types.Var { return types.NewParam(token.NoPos, pkg, name, t) }
	f := newFieldNames()
	tests := []struct {
		v    *types.Var
		want string
	}{
		{param("cfg", named("Config")), "Cfg"},
		{param("n", named("Notifier")), "Notifier"},
		{param("r", types.NewPointer(named("Repo"))), "Repo"},
		{param("s", types.NewSlice(named("Store"))), "Stores"},
		{param("", named("Notifier")), "Notifier2"},
		{param("_", types.Typ[types.Int]), "P5"},
		{param("x", types.Typ[types.String]), "X"},
		{param("état", types.Typ[types.String]), "État"},
		{param("db", named("DB")), "Db"},
	}
	for i, tt := range tests {
		if got := f.name(tt.v, i); got != tt.want {
			t.Errorf("param %d (%s %s): field %q, want %q", i, tt.v.Name(), tt.v.Type(), got, tt.want)
		}
	}
}
