package socketservice

import (
	"context"
	"slices"
	"sync/atomic"
)

// Count returns how many sockets are connected to this node, over every
// namespace (Namespace.Count is one namespace's).
func (s *Server) Count() int {
	n := 0
	s.counts.Range(func(_, c any) bool {
		n += int(c.(*atomic.Int64).Load())
		return true
	})
	return n
}

// NamespaceStats is one namespace's place in Server.Namespaces.
type NamespaceStats struct {
	// Name is the namespace's name, e.g. "/chat" or "/tenant/42".
	Name string `json:"name"`
	// Pattern is the route or pattern it is a child of, as the service
	// declared it ("/tenant/{id}"); "" for a fixed namespace.
	Pattern string `json:"pattern,omitempty"`
	// Sockets is how many sockets are connected to it on this node.
	Sockets int `json:"sockets"`
}

// Namespaces lists this node's live namespaces, sorted by name: every
// fixed namespace, and each child of a route or pattern while at least one
// socket is connected to it here (a child whose last socket left is not
// listed, so the list does not grow with every name ever used).
func (s *Server) Namespaces() []NamespaceStats {
	s.mu.RLock()
	registered := s.state != stateNew
	s.mu.RUnlock()
	if !registered {
		return nil
	}
	var out []NamespaceStats
	for name := range s.static {
		out = append(out, NamespaceStats{Name: name, Sockets: s.count(name)})
	}
	s.counts.Range(func(k, c any) bool {
		name := k.(string)
		n := int(c.(*atomic.Int64).Load())
		if _, fixed := s.static[name]; fixed || n <= 0 {
			return true
		}
		if def := s.serviceFor(name); def != nil && def.pattern != nil {
			out = append(out, NamespaceStats{Name: name, Pattern: def.patternSrc, Sockets: n})
		}
		return true
	})
	slices.SortFunc(out, func(a, b NamespaceStats) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// Children returns the names of the live children (see Namespaces) of a
// route or pattern, given as the service declared it ("/tenant/{id}").
func (s *Server) Children(pattern string) []string {
	var out []string
	for _, ns := range s.Namespaces() {
		if ns.Pattern == pattern && ns.Pattern != "" {
			out = append(out, ns.Name)
		}
	}
	return out
}

// ClusterCount returns how many sockets of this handle (its rooms and
// exceptions applied) are connected on every node of the cluster (on this
// node alone without one). It asks every node for its sockets
// (FetchSockets), so it costs a round trip and grows with the namespace:
// for dashboards and admin calls, not per event.
func (n Namespace) ClusterCount(ctx context.Context) (int, error) {
	socks, err := n.FetchSockets(ctx)
	return len(socks), err
}
