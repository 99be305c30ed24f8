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

// MethodInfo describes one RPC method of a service.
type MethodInfo struct {
	Name        string   `json:"name"`
	Fingerprint string   `json:"fingerprint"`
	Params      []string `json:"params"`
}

// serviceInfoOf describes desc published under name.
func serviceInfoOf(name string, desc *ServiceDesc) ServiceInfo {
	s := ServiceInfo{Name: name, Fingerprint: desc.Fingerprint}
	for _, m := range desc.Methods {
		s.Methods = append(s.Methods, MethodInfo{Name: m.Name, Fingerprint: m.Fingerprint, Params: append([]string(nil), m.Params...)})
	}
	return s
}

// selfInfo is what this node announces about itself. n.mu must be held.
func (n *Node) selfInfoLocked() peerInfo {
	info := peerInfo{Version: n.version}
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
