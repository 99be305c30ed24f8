package rewrite

import "testing"

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
