package gateway

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync/atomic"
)

// MinTokenLen is the shortest bearer token a token file may hold, in bytes.
const MinTokenLen = 16

// Grant is one token of a token file, without its secret: the token itself
// is kept only as its SHA-256, so that it can neither be logged nor leak
// from memory dumps of the gateway's state.
type Grant struct {
	// Name identifies the token in logs and errors.
	Name string
	// Patterns are what the token may call, as written in the file.
	Patterns []Pattern

	hash [sha256.Size]byte
}

// Pattern is one entry of a token's allowlist: "*" (everything), or
// SERVICE/METHOD split at its last slash, each part a path.Match pattern.
// SERVICE is matched against the service's full name and each suffix of it
// that starts after a slash, as the gateway accepts them in paths
// ("example.com/shop/inventory.Service", "shop/inventory.Service",
// "inventory.Service"). METHOD is matched against the first path segment
// after the service: the RPC method, or for published HTTP handlers the
// first segment of their path ("orders" of /legacy.API/orders/7), so
// "legacy.API/*" allows every path of those handlers.
type Pattern struct {
	// Service and Method are the two parts; both "*" for the pattern "*".
	Service, Method string
}

// String returns the pattern as written in a token file.
func (p Pattern) String() string {
	if p.Service == "*" && p.Method == "*" {
		return "*"
	}
	return p.Service + "/" + p.Method
}

// parsePattern checks one pattern of a token file.
func parsePattern(s string) (Pattern, error) {
	if s == "*" {
		return Pattern{Service: "*", Method: "*"}, nil
	}
	i := strings.LastIndex(s, "/")
	if i <= 0 || i == len(s)-1 {
		return Pattern{}, fmt.Errorf("pattern %q: want SERVICE/METHOD (such as inventory.Service/* or */Get*) or * for everything", s)
	}
	p := Pattern{Service: s[:i], Method: s[i+1:]}
	for _, part := range []string{p.Service, p.Method} {
		if _, err := path.Match(part, ""); err != nil {
			return Pattern{}, fmt.Errorf("pattern %q: %q is not a valid path.Match pattern: %v", s, part, err)
		}
	}
	return p, nil
}

// matches reports whether the pattern allows method of the service with
// the given full name.
func (p Pattern) matches(service, method string) bool {
	ok, _ := path.Match(p.Method, method)
	return ok && p.matchesService(service)
}

// matchesService reports whether the pattern's SERVICE part matches the
// full name service or a suffix of it that starts after a slash.
func (p Pattern) matchesService(service string) bool {
	for name := service; ; {
		if ok, _ := path.Match(p.Service, name); ok {
			return true
		}
		i := strings.Index(name, "/")
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}

// Allows reports whether the grant may call method of the service with the
// given full name.
func (g *Grant) Allows(service, method string) bool {
	for _, p := range g.Patterns {
		if p.matches(service, method) {
			return true
		}
	}
	return false
}

// TokenSet is the parsed content of a token file. It is immutable.
type TokenSet struct {
	grants []*Grant
}

// Len returns the number of tokens in the set.
func (s *TokenSet) Len() int { return len(s.grants) }

// Authenticate returns the grant of the given bearer token, or nil when it
// is none of the set's. It compares the token's SHA-256 with every token's
// in constant time, so the time it takes does not tell how close the token
// came to one of them.
func (s *TokenSet) Authenticate(token string) *Grant {
	h := sha256.Sum256([]byte(token))
	var found *Grant
	for _, g := range s.grants {
		if subtle.ConstantTimeCompare(h[:], g.hash[:]) == 1 {
			found = g
		}
	}
	return found
}

// ParseTokens reads a token file from r; name (the file's path) is used in
// errors, which name the line and what is wrong with it. A token file holds
// one line per token, its name, the token (at least MinTokenLen bytes) and
// the patterns of what it may call (see Pattern):
//
//	# name   token                              what it may call
//	shop     3f9c0a7d5e1b4c2a9e8f7d6c5b4a3928   inventory.Service/*,catalog.Service/Get*
//	ops      b1e2d3c4a5968778695a4b3c2d1e0f00   *
//
// Fields are separated by spaces or tabs, patterns by commas without
// spaces; '#' starts a comment line; blank lines are skipped. Names and
// tokens are unique; a file without a token is refused.
func ParseTokens(name string, r io.Reader) (*TokenSet, error) {
	set := &TokenSet{}
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		g, err := parseGrant(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if prev, ok := names[g.Name]; ok {
			return nil, fmt.Errorf("%s:%d: token name %q is already used on line %d: give each token its own name", name, line, g.Name, prev)
		}
		if prev, ok := hashes[g.hash]; ok {
			return nil, fmt.Errorf("%s:%d: token %q is the same secret as line %d's: generate one secret per token", name, line, g.Name, prev)
		}
		names[g.Name], hashes[g.hash] = line, line
		set.grants = append(set.grants, g)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(set.grants) == 0 {
		return nil, fmt.Errorf("%s: no token in the file: add a line \"<name> <token> <pattern>[,<pattern>...]\"", name)
	}
	return set, nil
}

// parseGrant parses one non-blank, non-comment line of a token file.
func parseGrant(text string) (*Grant, error) {
	fields := strings.Fields(text)
	switch {
	case len(fields) < 3:
		return nil, fmt.Errorf("want \"<name> <token> <pattern>[,<pattern>...]\", got %d field(s)", len(fields))
	case len(fields) > 3:
		return nil, fmt.Errorf("token %q: want 3 fields, got %d: separate the patterns with commas and no spaces", fields[0], len(fields))
	}
	name, token := fields[0], fields[1]
	if len(token) < MinTokenLen {
		return nil, fmt.Errorf("token %q is %d bytes long, want at least %d: generate one with 'openssl rand -hex 32'", name, len(token), MinTokenLen)
	}
	g := &Grant{Name: name, hash: sha256.Sum256([]byte(token))}
	for _, s := range strings.Split(fields[2], ",") {
		if s == "" {
			return nil, fmt.Errorf("token %q: empty pattern in %q", name, fields[2])
		}
		p, err := parsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("token %q: %w", name, err)
		}
		g.Patterns = append(g.Patterns, p)
	}
	return g, nil
}

// Tokens is a token file loaded for the gateway, which Reload reads again
// (meshsplit gateway calls it on SIGHUP). Requests see either the old set
// or the new one, whole, never a mix; requests in flight keep the set they
// started with.
type Tokens struct {
	path string
	set  atomic.Pointer[TokenSet]
}

// LoadTokens reads the token file at path.
func LoadTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path}
	if err := t.Reload(); err != nil {
		return nil, err
	}
	return t, nil
}

// Path returns the token file's path.
func (t *Tokens) Path() string { return t.path }

// Current returns the token set in use.
func (t *Tokens) Current() *TokenSet { return t.set.Load() }

// Reload reads the token file again and puts its tokens in use. When the
// file cannot be read or is malformed it returns the error and the tokens
// in use stay.
func (t *Tokens) Reload() error {
	f, err := os.Open(t.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("token file %s does not exist", t.path)
		}
		return fmt.Errorf("reading the token file: %w", err)
	}
	defer f.Close()
	set, err := ParseTokens(t.path, f)
	if err != nil {
		return err
	}
	t.set.Store(set)
	return nil
}
