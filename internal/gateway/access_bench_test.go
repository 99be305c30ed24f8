package gateway

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// tokenFile returns a token file of n tokens, the last one "bench" with
// its secret, allowed everything.
func tokenFile(n int) (content, secret string) {
	var b strings.Builder
	for i := range n - 1 {
		fmt.Fprintf(&b, "t%d token-%016d inventory.Service/Get*,catalog.Service/*\n", i, i)
	}
	secret = "bench-secret-0123456789"
	fmt.Fprintf(&b, "bench %s *\n", secret)
	return b.String(), secret
}

// BenchmarkAuthenticate measures a token check against sets of growing
// size: one SHA-256 and a constant-time comparison per token of the set.
func BenchmarkAuthenticate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			content, secret := tokenFile(n)
			set, err := ParseTokens("bench.txt", strings.NewReader(content))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if set.Authenticate(secret) == nil {
					b.Fatal("token not found")
				}
			}
		})
	}
}

// BenchmarkGatewayCall calls a method through the gateway over real TCP,
// without access control, with 100 tokens, and with Config.Telemetry on
// (run alone, under OpenTelemetry's default no-op providers, as meshsplit
// gateway is without an exporter or -metrics): the ratios to "open" are
// the price of the access control and of the telemetry.
func BenchmarkGatewayCall(b *testing.B) {
	for _, tc := range []struct {
		name      string
		tokens    int
		telemetry bool
	}{{"open", 0, false}, {"tokens=100", 100, false}, {"telemetry", 0, true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{Telemetry: tc.telemetry}
			var header map[string]string
			if tc.tokens > 0 {
				content, secret := tokenFile(tc.tokens)
				path := filepath.Join(b.TempDir(), "tokens.txt")
				writeTokens(b, path, content)
				tokens, err := LoadTokens(path)
				if err != nil {
					b.Fatal(err)
				}
				cfg.Tokens, header = tokens, bearer(secret)
			}
			gw, _ := startMeshConfig(b, cfg)
			for b.Loop() {
				if status, _, body := do(b, gw, "POST", "/inventory.Service/Reserve", `{"sku":"A1","qty":1}`, header); status != 200 {
					b.Fatalf("status %d, body %s", status, body)
				}
			}
		})
	}
}
