package gateway

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// bearerRealm is the realm of the gateway's WWW-Authenticate challenge.
const bearerRealm = `Bearer realm="meshsplit gateway"`

// callInfo is what serve learned of a request, for its log line.
type callInfo struct {
	token   string // the token's name, never the token
	service string // full name, once resolved
	method  string // the RPC method, or the first segment of a handler path
	rpc     bool   // method is an RPC method of service
}

// authenticate returns the grant of the request's bearer token, or answers
// 401 and returns nil.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) *Grant {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", bearerRealm)
		writeAuthError(w, http.StatusUnauthorized, "unauthorized",
			"this gateway wants a bearer token: send the header \"Authorization: Bearer <token>\" with a token of its -tokens file")
		return nil
	}
	g := h.tokens.Current().Authenticate(token)
	if g == nil {
		w.Header().Set("WWW-Authenticate", bearerRealm+`, error="invalid_token"`)
		writeAuthError(w, http.StatusUnauthorized, "unauthorized",
			"the bearer token is none of this gateway's tokens (revoked, mistyped, or for another gateway)")
		return nil
	}
	return g
}

// bearerToken returns the token of an Authorization header value
// "Bearer <token>" (the scheme in any case).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authError is the JSON body of a 401 or 403: the gateway's error shape
// with the status repeated, as OAuth-style clients expect.
type authError struct {
	Error  string `json:"error"`
	Code   string `json:"code"`
	Status int    `json:"status"`
}

func writeAuthError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, authError{Error: msg, Code: code, Status: status})
}

// logCall writes the request's log line.
func (h *handler) logCall(r *http.Request, call *callInfo, status int, took time.Duration) {
	attrs := make([]slog.Attr, 0, 7)
	if h.tokens != nil {
		attrs = append(attrs, slog.String("token", call.token))
	}
	attrs = append(attrs,
		slog.String("service", call.service),
		slog.String("method", call.method),
		slog.String("http", r.Method+" "+r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", took),
	)
	h.logger.LogAttrs(r.Context(), slog.LevelInfo, "gateway call", attrs...)
}

// patternList returns the grant's patterns as written in the token file.
func (g *Grant) patternList() string {
	s := make([]string, len(g.Patterns))
	for i, p := range g.Patterns {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// mayCall reports whether the grant may call anything of the service with
// the given full name: whether one of its patterns names the service.
func (g *Grant) mayCall(service string) bool {
	for _, p := range g.Patterns {
		if p.matchesService(service) {
			return true
		}
	}
	return false
}

// visibleNames returns the service names grant may call something of.
func visibleNames(names []string, grant *Grant) []string {
	var out []string
	for _, n := range names {
		if grant.mayCall(n) {
			out = append(out, n)
		}
	}
	return out
}

// allowedMethods returns the methods of s that grant may call, all of them
// when grant is nil.
func allowedMethods(s meshrt.ServiceInfo, grant *Grant) []meshrt.MethodInfo {
	if grant == nil {
		return s.Methods
	}
	var out []meshrt.MethodInfo
	for _, m := range s.Methods {
		if grant.Allows(s.Name, m.Name) {
			out = append(out, m)
		}
	}
	return out
}
