package gateway

import (
	"strings"
	"testing"
)

func TestParseTokensRefusesMalformedFiles(t *testing.T) {
	const good = "shop 0123456789abcdef0123 inventory.Service/*\n"
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "tokens.txt: no token in the file"},
		{"comments only", "# nothing\n\n", "tokens.txt: no token in the file"},
		{"two fields", "# c\nshop 0123456789abcdef0123\n", `tokens.txt:2: want "<name> <token> <pattern>[,<pattern>...]", got 2 field(s)`},
		{"spaces between patterns", "shop 0123456789abcdef0123 a.S/*, b.S/*\n", `tokens.txt:1: token "shop": want 3 fields, got 4: separate the patterns with commas and no spaces`},
		{"short token", "shop short-token-15b *\n", `tokens.txt:1: token "shop" is 15 bytes long, want at least 16`},
		{"no method part", good + "ops 0123456789abcdef0124 inventory.Service\n", `tokens.txt:2: token "ops": pattern "inventory.Service": want SERVICE/METHOD`},
		{"empty method", "ops 0123456789abcdef0124 inventory.Service/\n", `pattern "inventory.Service/": want SERVICE/METHOD`},
		{"empty pattern", "ops 0123456789abcdef0124 a.S/*,,b.S/*\n", `tokens.txt:1: token "ops": empty pattern in "a.S/*,,b.S/*"`},
		{"bad glob", "ops 0123456789abcdef0124 a.S/[x\n", `pattern "a.S/[x": "[x" is not a valid path.Match pattern`},
		{"duplicate name", good + "\nshop 0123456789abcdef0999 *\n", `tokens.txt:3: token name "shop" is already used on line 1`},
		{"duplicate secret", good + "ops 0123456789abcdef0123 *\n", `tokens.txt:2: token "ops" is the same secret as line 1's`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := ParseTokens("tokens.txt", strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseTokens(%q) = %v, %v; want an error containing %q", tt.file, set, err, tt.want)
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("the error %q shows a token", err)
			}
		})
	}
}

func TestTokenPatterns(t *testing.T) {
	const file = `# name token patterns
inv     inv-token-0123456789   inventory.Service/*
getters get-token-0123456789   */Get*
full    full-token-012345678   example.com/shop/catalog.Service/List,shop/catalog.Service/Find
legacy  legacy-token-0123456   legacy.API/orders
all	all-token-0123456789	*
`
	set, err := ParseTokens("tokens.txt", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 5 {
		t.Fatalf("%d tokens, want 5", set.Len())
	}
	tests := []struct {
		token, service, method string
		want                   bool
	}{
		{"inv-token-0123456789", inventoryName, "Reserve", true},
		{"inv-token-0123456789", shopCatalog, "Reserve", false},
		{"inv-token-0123456789", "example.com/other/inventory.Service", "Slow", true}, // the short name is the other's too
		{"get-token-0123456789", shopCatalog, "GetItem", true},
		{"get-token-0123456789", inventoryName, "Get", true},
		{"get-token-0123456789", inventoryName, "Reserve", false},
		{"full-token-012345678", shopCatalog, "List", true},
		{"full-token-012345678", shopCatalog, "Find", true},
		{"full-token-012345678", whCatalog, "List", false},
		{"full-token-012345678", whCatalog, "Find", false},
		{"legacy-token-0123456", legacyName, "orders", true},
		{"legacy-token-0123456", legacyName, "customers", false},
		{"all-token-0123456789", "a.b/c/d.Service", "Anything", true},
		{"all-token-0123456789", legacyName, "", true},
	}
	for _, tt := range tests {
		g := set.Authenticate(tt.token)
		if g == nil {
			t.Fatalf("token %s not found", tt.token)
		}
		if got := g.Allows(tt.service, tt.method); got != tt.want {
			t.Errorf("%s (patterns %s) allows %s/%s = %v, want %v", g.Name, g.patternList(), tt.service, tt.method, got, tt.want)
		}
	}
	for _, bad := range []string{"", "inv-token-012345678", "inv-token-01234567890", "INV-TOKEN-0123456789", "inventory.Service/*"} {
		if g := set.Authenticate(bad); g != nil {
			t.Errorf("Authenticate(%q) = %s, want none", bad, g.Name)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := bearerToken(tt.header); got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
