package runtime

import (
	"sort"
)

// ServiceInfo describes a service the mesh knows: what it is called, its
// methods and the nodes that serve it. The gateway builds its routes from
// it.
type ServiceInfo struct {
	// Name is the full service name, "example.com/shop/inventory.Service".
	Name string `json:"name"`
	// Fingerprint is ServiceDesc.Fingerprint; empty for an HTTP-only service.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Methods lists the RPC methods, sorted by name.
	Methods []MethodInfo `json:"methods,omitempty"`
	// HTTP reports whether some node serves published HTTP handlers under
	// /<Name>/...
	HTTP bool `json:"http,omitempty"`
	// Nodes are the addresses (ids for caller-only nodes) of the live nodes
	// serving the service, sorted; filled in by Node.Services.
	Nodes []string `json:"nodes,omitempty"`
}

// MethodInfo describes one RPC method of a service: what an HTTP-path
// caller needs to build its JSON body and read the answer, and what a
// fast-path caller needs to name the method (docs/protocol.md, "Service
// names, method indexes and fingerprints").
type MethodInfo struct {
	// Name is the Go method name.
	Name string `json:"name"`
	// Fingerprint is MethodDesc.Fingerprint, sent with every fast-path call.
	Fingerprint string `json:"fingerprint"`
	// Params are the JSON names of the parameters, in order (the context
	// parameter is not one).
	Params []string `json:"params"`
	// ParamTypes are the Go types of the parameters, packages spelled as
	// full paths ("[]example.com/shop/inventory.Item").
	ParamTypes []string `json:"param_types"`
	// Results are the JSON names of the results other than the error, then
	// of the pointer parameters the method may write through: the keys of
	// the HTTP path's answer. Unnamed results are r0, r1, ... by position.
	Results []string `json:"results"`
	// ResultTypes are the Go types of Results, spelled as ParamTypes.
	ResultTypes []string `json:"result_types"`
	// Stream is empty for a unary method; for a streaming one (called on an
	// 'S' stream of its own, not served on the HTTP path) it is "in" (an
	// io.Reader parameter, left out of Params), "out" (a streamed result,
	// left out of Results) or "in,out".
	Stream string `json:"stream,omitempty"`
}

// serviceInfoOf describes desc published under name.
func serviceInfoOf(name string, desc *ServiceDesc) ServiceInfo {
	s := ServiceInfo{Name: name, Fingerprint: desc.Fingerprint}
	for _, m := range desc.Methods {
		// Params, like the other lists, is empty rather than nil for a
		// method without parameters: JSON says [] (none), not null.
		mi := MethodInfo{Name: m.Name, Fingerprint: m.Fingerprint, Params: append([]string{}, m.Params...)}
		_, mi.ParamTypes = messageFields(m.NewRequest)
		mi.Results, mi.ResultTypes = messageFields(m.NewResponse)
		if sd := m.Stream; sd != nil {
			mi.Stream = map[[2]bool]string{{true, false}: "in", {false, true}: "out", {true, true}: "in,out"}[[2]bool{sd.In, sd.Out}]
		}
		s.Methods = append(s.Methods, mi)
	}
	return s
}

// selfInfo is what this node announces about itself. n.mu must be held.
func (n *Node) selfInfoLocked() peerInfo {
	info := peerInfo{Version: n.version, Lane: n.cfg.MaxCallsPerPeer}
	names := make([]string, 0, len(n.services))
	for name, s := range n.services {
		if !s.hidden {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		info.Services = append(info.Services, n.services[name].public)
	}
	for name := range n.handlers {
		info.HTTP = append(info.HTTP, name)
	}
	sort.Strings(info.HTTP)
	return info
}

// Services lists every service the node can reach (served by a live peer)
// or serves itself, sorted by name, each with the nodes serving it.
func (n *Node) Services() []ServiceInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	byName := map[string]*ServiceInfo{}
	add := func(node string, info peerInfo) {
		for _, s := range info.Services {
			cur := byName[s.Name]
			if cur == nil {
				c := s
				c.Nodes = nil
				cur = &c
				byName[s.Name] = cur
			}
			cur.Nodes = append(cur.Nodes, node)
		}
		for _, h := range info.HTTP {
			cur := byName[h]
			if cur == nil {
				cur = &ServiceInfo{Name: h}
				byName[h] = cur
			}
			cur.HTTP = true
			if len(cur.Nodes) == 0 || cur.Nodes[len(cur.Nodes)-1] != node {
				cur.Nodes = append(cur.Nodes, node)
			}
		}
	}
	if !n.closing {
		self := n.addr
		if self == "" {
			self = n.id
		}
		add(self, n.selfInfoLocked())
	}
	for _, p := range n.peers {
		if info := p.info.Load(); info != nil && !p.leaving.Load() {
			add(p.name(), *info)
		}
	}
	out := make([]ServiceInfo, 0, len(byName))
	for _, s := range byName {
		sort.Strings(s.Nodes)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
