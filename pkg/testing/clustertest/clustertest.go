package clustertest

import (
	"context"
	"fmt"
	"time"

	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// TB is what the harness needs of a test: *testing.T and GinkgoT() have it.
type TB interface {
	sockettest.TB
	Helper()
	Fatalf(format string, args ...any)
	TempDir() string
}

// Cluster is N socketfx nodes joined through one real Redis.
type Cluster struct {
	// Redis is the redis-server the nodes share; Stop and Restart it to
	// test an outage.
	Redis *redistest.Server
	// Nodes are the running nodes, in start order.
	Nodes []*Node

	tb      TB
	options []fx.Option
}

// Node is one node: a sockettest.Server (URL, Socket, Connect) joined to
// the cluster.
type Node struct {
	*sockettest.Server
	// Adapter is the node's cluster adapter (Health, Dropped, UID).
	Adapter *adapter.Redis
	proxy   *redistest.Proxy // the node's own way to Redis, cut by Crash
	crashed bool
}

// AdapterConfig is the adapter configuration the harness supplies: short
// heartbeats, so that specs about dead nodes are quick. Change it with
// fx.Decorate.
var AdapterConfig = adapter.Config{
	HeartbeatInterval: 200 * time.Millisecond,
	HeartbeatTimeout:  time.Second,
	RequestTimeout:    3 * time.Second,
}

// Start starts a redis-server and n nodes, each an fx app made of
// socketservice.Module, adapter.Module and options (your services, fakes,
// fx.Decorate of a Config…). Everything stops in the test's cleanup.
func Start(tb TB, n int, options ...fx.Option) *Cluster {
	return StartOn(tb, redistest.Start(tb), n, options...)
}

// StartOn is Start on a Redis the test already runs.
func StartOn(tb TB, r *redistest.Server, n int, options ...fx.Option) *Cluster {
	c := &Cluster{Redis: r, tb: tb, options: options}
	for i := 0; i < n; i++ {
		c.AddNode()
	}
	return c
}

// AddNode starts one more node.
func (c *Cluster) AddNode() *Node {
	n := &Node{proxy: redistest.NewProxy(c.tb, c.Redis.Addr())}
	cfg := AdapterConfig
	cfg.URL = n.proxy.URL()
	n.Server = sockettest.NewServer(c.tb,
		adapter.Module,
		fx.Supply(cfg),
		fx.Options(c.options...),
		fx.Populate(&n.Adapter),
	)
	c.Nodes = append(c.Nodes, n)
	return n
}

// Node returns node i.
func (c *Cluster) Node(i int) *Node { return c.Nodes[i] }

// Ready waits until every running node counts every running node on
// namespace (heartbeats have gone round), or fails the test after timeout.
func (c *Cluster) Ready(namespace string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		err := c.ready(namespace)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("clustertest: cluster not ready on %s after %v: %v", namespace, timeout, err)
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the nodes' own counts
	}
}

func (c *Cluster) ready(namespace string) error {
	live := 0
	for _, n := range c.Nodes {
		if !n.crashed {
			live++
		}
	}
	for i, n := range c.Nodes {
		if n.crashed {
			continue
		}
		got, err := n.Socket.Of(namespace).ServerCount()
		if err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		if got != live {
			return fmt.Errorf("node %d counts %d nodes, want %d", i, got, live)
		}
	}
	return nil
}

// Connect connects a test client to namespace on node i.
func (c *Cluster) Connect(ctx context.Context, node int, namespace string, opts ...sockettest.Option) (*sockettest.Client, error) {
	return c.Nodes[node].Connect(ctx, namespace, opts...)
}

// Spread connects k clients to namespace, round-robin over the running
// nodes: client j is on node j mod N.
func (c *Cluster) Spread(ctx context.Context, namespace string, k int, opts ...sockettest.Option) ([]*sockettest.Client, error) {
	var live []*Node
	for _, n := range c.Nodes {
		if !n.crashed {
			live = append(live, n)
		}
	}
	out := make([]*sockettest.Client, 0, k)
	for j := 0; j < k; j++ {
		cl, err := live[j%len(live)].Connect(ctx, namespace, opts...)
		if err != nil {
			for _, done := range out {
				done.Close()
			}
			return nil, err
		}
		out = append(out, cl)
	}
	return out, nil
}

// Stop stops the node cleanly: it says goodbye, so the others stop
// counting it at once.
func (n *Node) Stop() { n.Close() }

// Crash stops the node the way a killed process goes: its Redis
// connections are cut (it reaches Redis through a proxy of its own), so it
// says no goodbye and the others stop counting it only when its heartbeats
// are overdue.
func (n *Node) Crash() {
	n.crashed = true
	n.proxy.Cut()
	n.Close()
}

var _ socketservice.Cluster = (*adapter.Redis)(nil)
