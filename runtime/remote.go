package runtime

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unicode"
)

// This file holds the in-process / remote switch: MESHRPC_REMOTE, parsed
// once, and the lookup generated constructors call.

// remoteSpec is the parsed MESHRPC_REMOTE.
type remoteSpec struct {
	set     bool     // the variable is non-empty
	all     bool     // "*"
	entries []string // "inventory.Service", "example.com/shop/payments.Gateway"
	err     error    // malformed value
}

// remoteFromEnv parses MESHRPC_REMOTE on first use.
var remoteFromEnv = sync.OnceValue(func() remoteSpec {
	return parseRemote(os.Getenv(EnvRemote))
})

// loopbackFromEnv reads MESHRPC_LOOPBACK on first use.
var loopbackFromEnv = sync.OnceValue(func() bool {
	v := os.Getenv(EnvLoopback)
	return v != "" && v != "0" && v != "false"
})

// parseRemote parses a MESHRPC_REMOTE value: a comma-separated list of
// "*" or <package path suffix>.<Interface>.
func parseRemote(v string) remoteSpec {
	v = strings.TrimSpace(v)
	if v == "" {
		return remoteSpec{}
	}
	spec := remoteSpec{set: true}
	for i, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "*" {
			spec.all = true
			continue
		}
		if err := checkRemoteEntry(e); err != nil {
			spec.err = fmt.Errorf("%s=%q: entry %d %q: %v; want a comma-separated list of pkg.Interface (a package path suffix, a dot, an interface name) or *",
				EnvRemote, v, i+1, e, err)
			return spec
		}
		spec.entries = append(spec.entries, e)
	}
	return spec
}

// checkRemoteEntry reports what is wrong with one entry.
func checkRemoteEntry(e string) error {
	if e == "" {
		return fmt.Errorf("empty")
	}
	dot := strings.LastIndexByte(e, '.')
	if dot <= 0 || dot == len(e)-1 {
		return fmt.Errorf("no package before or no interface after the last dot")
	}
	pkg, iface := e[:dot], e[dot+1:]
	for i, r := range iface {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return fmt.Errorf("%q is not a Go identifier", iface)
		}
	}
	if strings.HasPrefix(pkg, "/") || strings.HasSuffix(pkg, "/") || strings.Contains(pkg, "//") {
		return fmt.Errorf("package path %q has an empty element", pkg)
	}
	for _, r := range pkg {
		if unicode.IsSpace(r) || r == '\\' || r == '*' || r == '"' {
			return fmt.Errorf("package path %q contains %q", pkg, r)
		}
	}
	return nil
}

// matches reports whether the spec selects service, a full name such as
// "example.com/shop/inventory.Service".
func (s remoteSpec) matches(service string) bool {
	if s.all {
		return true
	}
	for _, e := range s.entries {
		if service == e || (len(service) > len(e) && strings.HasSuffix(service, e) && service[len(service)-len(e)-1] == '/') {
			return true
		}
	}
	return false
}

// Remote reports whether MESHRPC_REMOTE selects service (a full name such as
// "example.com/shop/inventory.Service"): an entry equal to it, an entry that
// is a suffix of it starting after a slash ("inventory.Service",
// "shop/inventory.Service"), or "*". The variable is parsed once. When the
// value is malformed Remote returns true, so that the constructor returns
// the client whose every call reports the error instead of silently running
// in process; CheckEnv reports the same error at start-up.
//
// With MESHRPC_REMOTE unset Remote starts nothing and allocates nothing.
func Remote(service string) bool {
	s := remoteFromEnv()
	if !s.set {
		return false
	}
	if s.err != nil {
		return true
	}
	return s.matches(service)
}

// RemoteService reports whether MESHRPC_REMOTE selects the service desc
// describes: by any name Remote accepts for desc.Name, or, when the
// package's name is not the last element of its path, by that name and the
// interface's ("cargo.Tracker" for example.com/fleet.Tracker declared in
// package cargo). Generated constructors call it; like Remote, it starts
// nothing and allocates nothing with MESHRPC_REMOTE unset.
func RemoteService(desc *ServiceDesc) bool {
	s := remoteFromEnv()
	if !s.set {
		return false
	}
	return s.err != nil || s.selects(desc)
}

// selects reports whether the spec selects the service desc describes (see
// RemoteService).
func (s remoteSpec) selects(desc *ServiceDesc) bool {
	if s.matches(desc.Name) {
		return true
	}
	if s.all || desc.Package == "" {
		return false
	}
	iface := desc.Name[strings.LastIndexByte(desc.Name, '.')+1:]
	for _, e := range s.entries {
		if len(e) == len(desc.Package)+1+len(iface) && strings.HasPrefix(e, desc.Package) && e[len(desc.Package)] == '.' && strings.HasSuffix(e, iface) {
			return true
		}
	}
	return false
}

// CheckEnv reports a malformed MESHRPC_REMOTE and, when MESHRPC_REMOTE is
// set, an invalid mesh configuration (MESHRPC_LISTEN, MESHRPC_CLUSTER_NODES,
// MESHRPC_TLS_*, ...): what every remote call would otherwise fail with.
// Mains call it at start-up to fail early with a message naming the
// variable. A process that serves services gets the same errors from
// DefaultNode.
func CheckEnv() error {
	if err := remoteFromEnv().err; err != nil {
		return err
	}
	if !remoteFromEnv().set {
		return nil
	}
	cfg, err := ConfigFromEnv()
	if err != nil {
		return err
	}
	return cfg.Validate()
}
