package socketservice

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ConnLimits bounds what one client address may open, at the HTTP layer:
// checked on the first request of each new connection (a polling handshake,
// a websocket opened directly), before the engine allocates anything. A
// refused request gets 429 with the engine's error body and data.code
// RATE_LIMITED, and the server logs the address (once a minute per
// address). The official client sees a connect_error ("xhr poll error" or
// "websocket error") and retries with its backoff.
type ConnLimits struct {
	// MaxPerIP is the most connections one address may hold open at once
	// (engine connections: one per client, whatever its namespaces). Zero
	// is no limit. Clients behind one NAT share an address: leave room.
	MaxPerIP int
	// RatePerIP is how many new connections per second one address may
	// open, sustained, with bursts of BurstPerIP (default: RatePerIP
	// rounded up, at least 1). Zero is no limit. A refusal carries
	// Retry-After.
	RatePerIP  float64
	BurstPerIP int
	// ClientIPHeader names the header a trusted proxy in front of the
	// server sets to the client's address: "X-Forwarded-For" (its last
	// address is taken: the one your proxy appended) or "X-Real-IP". Empty
	// uses the connection's remote address. Set it only behind a proxy
	// that sets it: clients can send any header.
	ClientIPHeader string
}

// ClientIP returns the client address of r: the last address of header
// when it is set and holds one (see ConnLimits.ClientIPHeader), the
// request's remote address otherwise, without its port.
func ClientIP(r *http.Request, header string) string {
	if header != "" {
		if v := r.Header.Values(header); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return ip.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().String()
	}
	return host
}

// connLimiter keeps, per client address, the connections open and those
// being opened, and the address's rate limiter.
type connLimiter struct {
	cfg   ConnLimits
	burst int
	mu    sync.Mutex
	addrs map[string]*addrState
	seen  int // admissions since the last sweep
}

type addrState struct {
	live, pending int
	limiter       *rate.Limiter
	logged        time.Time
}

func newConnLimiter(cfg ConnLimits) *connLimiter {
	burst := cfg.BurstPerIP
	if burst <= 0 {
		burst = max(1, int(math.Ceil(cfg.RatePerIP)))
	}
	return &connLimiter{cfg: cfg, burst: burst, addrs: map[string]*addrState{}}
}

// limitRefusal is why admit refused a request.
type limitRefusal struct {
	message    string
	retryAfter time.Duration
	log        bool // first refusal of the address this minute
}

// admit checks a new connection's first request from addr; when it lets it
// through, done must be called once the engine has handled the request (by
// then the connection, if any, is counted by opened).
func (l *connLimiter) admit(addr string, now time.Time) (done func(), refused *limitRefusal) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	st := l.addrs[addr]
	if st == nil {
		st = &addrState{}
		if l.cfg.RatePerIP > 0 {
			st.limiter = rate.NewLimiter(rate.Limit(l.cfg.RatePerIP), l.burst)
		}
		l.addrs[addr] = st
	}
	if l.cfg.MaxPerIP > 0 && st.live+st.pending >= l.cfg.MaxPerIP {
		return nil, l.refuse(st, now, &limitRefusal{message: "too many connections from this address"})
	}
	if st.limiter != nil {
		res := st.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			return nil, l.refuse(st, now, &limitRefusal{message: "too many new connections from this address", retryAfter: d})
		}
	}
	st.pending++
	return func() {
		l.mu.Lock()
		st.pending--
		l.mu.Unlock()
	}, nil
}

func (l *connLimiter) refuse(st *addrState, now time.Time, r *limitRefusal) *limitRefusal {
	if now.Sub(st.logged) >= time.Minute {
		st.logged, r.log = now, true
	}
	return r
}

// opened counts a connection of addr the engine opened, until release.
func (l *connLimiter) opened(addr string) (release func()) {
	l.mu.Lock()
	st := l.addrs[addr]
	if st == nil {
		st = &addrState{}
		if l.cfg.RatePerIP > 0 {
			st.limiter = rate.NewLimiter(rate.Limit(l.cfg.RatePerIP), l.burst)
		}
		l.addrs[addr] = st
	}
	st.live++
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		st.live--
		l.mu.Unlock()
	}
}

// sweep forgets, every 1,024 admissions, the addresses with nothing open
// and a full rate budget: what is left is bounded by the addresses seen
// within one refill of the budget.
func (l *connLimiter) sweep(now time.Time) {
	l.seen++
	if l.seen < 1024 {
		return
	}
	l.seen = 0
	for addr, st := range l.addrs {
		if st.live == 0 && st.pending == 0 && (st.limiter == nil || st.limiter.TokensAt(now) >= float64(l.burst)) {
			delete(l.addrs, addr)
		}
	}
}

// limitConn runs the connection limits on a new connection's first
// request; it reports whether the engine should serve r, and returns what
// to call once it has.
func (s *Server) limitConn(w http.ResponseWriter, r *http.Request) (done func(), ok bool) {
	l := s.limits
	if l == nil || r.URL.Query().Get("sid") != "" {
		return func() {}, true
	}
	addr := ClientIP(r, l.cfg.ClientIPHeader)
	done, refused := l.admit(addr, time.Now())
	if refused == nil {
		return done, true
	}
	if refused.log {
		s.log.Warn("socketservice: connection refused by the address's limits (logged once a minute per address)",
			"address", addr, "reason", refused.message)
	}
	if refused.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(refused.retryAfter.Seconds()))))
	}
	writeEngineRefusal(w, http.StatusTooManyRequests, refused.message, CodeRateLimited)
	return nil, false
}
