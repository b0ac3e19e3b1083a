package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/socketfx/socketfx/internal/engine/bare"
	"github.com/socketfx/socketfx/internal/sioclient"
)

// Result is one target's measurement.
type Result struct {
	Name       string
	RoundTrips int
	Errors     int
	Elapsed    time.Duration
	P50, P99   time.Duration
	P999, Max  time.Duration
}

// PerSecond is the round trips per second.
func (r Result) PerSecond() float64 { return float64(r.RoundTrips) / r.Elapsed.Seconds() }

// Options set a run.
type Options struct {
	Clients   int
	Duration  time.Duration
	Namespace string
	Event     string
	Transport sioclient.Transport
}

// Run loads url and measures.
func Run(ctx context.Context, name, url string, o Options) (Result, error) {
	clients := make([]*sioclient.Client, o.Clients)
	for i := range clients {
		c, err := dial(ctx, url, o)
		if err != nil {
			for _, c := range clients[:i] {
				c.Close()
			}
			return Result{}, fmt.Errorf("%s: client %d: %w", name, i, err)
		}
		clients[i] = c
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	payload := bare.Payload{Text: "hello", N: 1}
	start := time.Now()
	deadline := start.Add(o.Duration)
	for _, c := range clients {
		wg.Add(1)
		go func(c *sioclient.Client) {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			failed := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				actx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := c.EmitWithAck(actx, o.Event, payload)
				cancel()
				if err != nil {
					failed++
					continue
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += failed
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	q := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(p*float64(len(latencies)-1))]
	}
	return Result{
		Name: name, RoundTrips: len(latencies), Errors: errs, Elapsed: elapsed,
		P50: q(0.5), P99: q(0.99), P999: q(0.999), Max: q(1),
	}, nil
}

// dial connects, retrying a few times: the bare engine loses a CONNECT
// that arrives before it attached its socket.io layer (docs/engine.md #4).
func dial(ctx context.Context, url string, o Options) (*sioclient.Client, error) {
	var err error
	for i := 0; i < 5; i++ {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var c *sioclient.Client
		c, err = sioclient.Connect(dctx, url, o.Namespace, sioclient.WithTransport(o.Transport))
		cancel()
		if err == nil {
			return c, nil
		}
	}
	return nil, err
}

// Report writes results as a table.
func Report(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%-10s %12s %10s %10s %10s %10s %8s\n", "target", "round trips/s", "p50", "p99", "p99.9", "max", "errors")
	for _, r := range results {
		fmt.Fprintf(w, "%-10s %12.0f %10s %10s %10s %10s %8d\n", r.Name, r.PerSecond(),
			r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.P999.Round(time.Microsecond), r.Max.Round(time.Microsecond), r.Errors)
	}
	if len(results) == 2 && results[1].PerSecond() > 0 {
		fmt.Fprintf(w, "%s / %s throughput: %.2f×\n", results[0].Name, results[1].Name, results[0].PerSecond()/results[1].PerSecond())
	}
}

// Compare runs socketfx and the bare engine in-process, one after the other.
func Compare(ctx context.Context, o Options) ([]Result, error) {
	var out []Result
	for _, t := range []struct {
		name  string
		start func() (*bare.Server, error)
	}{{"socketfx", func() (*bare.Server, error) { return bare.StartSocketfx() }}, {"bare", bare.StartEngine}} {
		srv, err := t.start()
		if err != nil {
			return nil, err
		}
		r, err := Run(ctx, t.name, srv.URL, o)
		srv.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func main() {
	url := flag.String("url", "", "server to load; empty: compare socketfx and the bare engine in-process")
	o := Options{}
	flag.IntVar(&o.Clients, "clients", 32, "concurrent clients")
	flag.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to load each target")
	flag.StringVar(&o.Namespace, "namespace", "/", "namespace to connect to")
	flag.StringVar(&o.Event, "event", "echo", "event to emit with ack")
	transport := flag.String("transport", "websocket", "websocket or polling")
	flag.Parse()
	o.Transport = sioclient.Transport(*transport)

	ctx := context.Background()
	var results []Result
	var err error
	if *url == "" {
		results, err = Compare(ctx, o)
	} else {
		var r Result
		r, err = Run(ctx, "target", *url, o)
		results = []Result{r}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "socketfx-load:", err)
		os.Exit(1)
	}
	Report(os.Stdout, results)
}
