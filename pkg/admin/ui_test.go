package admin_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/admin"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

// chat is the service whose sockets the UI watches and steers.
type chat struct{}

func (chat) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	r.OnConnect(func(_ context.Context, s *socketservice.Socket) error {
		s.Session().Set("user", "ann")
		return nil
	})
	r.HandleFunc("say", func(ctx context.Context, m *socketservice.Message) (any, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		return nil, s.Emit("said", m.Args...)
	})
	r.HandleFunc("enter", func(ctx context.Context, m *socketservice.Message) (any, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		room, _ := m.Args[0].(string)
		s.Join(room)
		return "ok", nil
	})
}

const password = "s3cret"

// passwordHash is bcrypt of password at the lowest cost, made once.
var passwordHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// uiApp runs a server with the chat service and the Admin UI's protocol
// and returns its base URL and the server.
func uiApp(ctx context.Context, opts ...admin.UIOption) (string, *socketservice.Server) {
	var srv *socketservice.Server
	opts = append([]admin.UIOption{admin.WithBasicAuth("admin", passwordHash), admin.WithStatsInterval(100 * time.Millisecond), admin.WithServerID("node-a")}, opts...)
	a := fx.New(
		fx.NopLogger,
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
		socketservice.AsService(func() chat { return chat{} }),
		admin.UIModule(opts...),
		fx.Populate(&srv),
	)
	Expect(a.Err()).NotTo(HaveOccurred())
	Expect(a.Start(ctx)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(a.Stop(ctx)).To(Succeed()) })
	return "http://" + srv.Addr(), srv
}

// events returns what client id received of event, as argument lists.
func events(d *nodeclient.Driver, id, event string) [][]any {
	var out [][]any
	for _, r := range d.Events(id) {
		if r["event"] == event {
			args, _ := r["args"].([]any)
			out = append(out, args)
		}
	}
	return out
}

// eventually waits until client id received event with arguments that
// match, and returns them.
func eventually(d *nodeclient.Driver, id, event string, match func(args []any) bool) []any {
	var found []any
	EventuallyWithOffset(1, func() bool {
		for _, args := range events(d, id, event) {
			if match(args) {
				found = args
				return true
			}
		}
		return false
	}).Should(BeTrue(), func() string {
		return fmt.Sprintf("no %s for %s; reports: %v\nstderr: %s", event, id, d.Reports(), d.Stderr())
	})
	return found
}

func any1(args []any) bool { return true }

func connect(d *nodeclient.Driver, id, url string, opts map[string]any) nodeclient.Report {
	d.Send(map[string]any{"op": "connect", "id": id, "url": url, "opts": opts})
	EventuallyWithOffset(1, func() int { return len(d.Find("connect", id)) + len(d.Find("connect_error", id)) }).Should(Equal(1), func() string {
		return fmt.Sprintf("reports: %v\nstderr: %s", d.Reports(), d.Stderr())
	})
	if errs := d.Find("connect_error", id); len(errs) > 0 {
		return errs[0]
	}
	return d.Find("connect", id)[0]
}

func login(d *nodeclient.Driver, id, base string) nodeclient.Report {
	r := connect(d, id, base+"/admin", map[string]any{"auth": map[string]any{"username": "admin", "password": password}})
	ExpectWithOffset(1, r.Type()).To(Equal("connect"), "%v", r)
	return r
}

var iso = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// isISO checks what JavaScript's new Date(x).toISOString() gives back x.
func isISO(v any) bool {
	s, ok := v.(string)
	if !ok || !iso.MatchString(s) {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && t.UTC().Format("2006-01-02T15:04:05.000Z") == s
}

var _ = Describe("the Admin UI's protocol, with the official client playing the UI", func() {
	var d *nodeclient.Driver
	BeforeEach(func() {
		opts := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(opts...) }).Should(Succeed()) })
		var err error
		d, err = nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
	})

	It("refuses a wrong password or no credentials with exactly \"invalid credentials\", and takes the session id on reload", func(ctx SpecContext) {
		base, _ := uiApp(ctx)
		r := connect(d, "wrong", base+"/admin", map[string]any{"auth": map[string]any{"username": "admin", "password": "nope"}})
		Expect(r.Type()).To(Equal("connect_error"))
		Expect(r["message"]).To(Equal(admin.InvalidCredentials))
		r = connect(d, "nobody", base+"/admin", nil)
		Expect(r["message"]).To(Equal("invalid credentials"))
		r = connect(d, "otheruser", base+"/admin", map[string]any{"auth": map[string]any{"username": "root", "password": password}})
		Expect(r["message"]).To(Equal("invalid credentials"))
		r = connect(d, "forged", base+"/admin", map[string]any{"auth": map[string]any{"sessionId": "made-up"}})
		Expect(r["message"]).To(Equal("invalid credentials"))

		login(d, "ui", base)
		session := eventually(d, "ui", "session", any1)
		Expect(session).To(HaveLen(1))
		id, _ := session[0].(string)
		Expect(id).To(HaveLen(24))
		r = connect(d, "reload", base+"/admin", map[string]any{"auth": map[string]any{"sessionId": id}})
		Expect(r.Type()).To(Equal("connect"))
		eventually(d, "reload", "config", any1)
	})

	It("greets the UI with its features and every socket, then streams server stats, connections, rooms and events", func(ctx SpecContext) {
		base, _ := uiApp(ctx)
		c := connect(d, "c", base+"/chat", map[string]any{"transports": []string{"websocket"}, "query": map[string]any{"tag": "x"}, "extraHeaders": map[string]any{"X-Test": "yes"}})
		Expect(c.Type()).To(Equal("connect"))
		sid := c["sid"].(string)
		login(d, "ui", base)

		cfg := eventually(d, "ui", "config", any1)
		Expect(cfg[0]).To(HaveKeyWithValue("supportedFeatures", ConsistOf(
			"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS")))

		all := eventually(d, "ui", "all_sockets", any1)
		Expect(all).To(HaveLen(1))
		var mine map[string]any
		for _, s := range all[0].([]any) {
			if m := s.(map[string]any); m["id"] == sid {
				mine = m
			}
		}
		Expect(mine).NotTo(BeNil(), "all_sockets: %v", all)
		Expect(mine).To(HaveKeyWithValue("nsp", "/chat"))
		Expect(mine).To(HaveKeyWithValue("transport", "websocket"))
		Expect(mine).To(HaveKeyWithValue("clientId", HaveLen(12)))
		Expect(mine).To(HaveKeyWithValue("rooms", ConsistOf(sid)))
		Expect(mine).To(HaveKeyWithValue("data", Equal(map[string]any{"user": "ann"})), "the UI's own _admin is left out")
		hs := mine["handshake"].(map[string]any)
		Expect(hs).To(HaveKeyWithValue("address", "127.0.0.1"))
		Expect(hs).To(HaveKeyWithValue("headers", HaveKeyWithValue("x-test", "yes")))
		Expect(hs).To(HaveKeyWithValue("query", HaveKeyWithValue("tag", "x")))
		Expect(hs).To(HaveKeyWithValue("issued", BeNumerically(">", 1.7e12)))
		Expect(hs).To(HaveKeyWithValue("time", MatchRegexp(`^\w{3} \w{3} \d\d \d{4} \d\d:\d\d:\d\d GMT[+-]\d{4} \(.+\)$`)))
		Expect(hs).To(HaveKeyWithValue("url", HavePrefix("/socket.io/")))
		Expect(hs).To(HaveKeyWithValue("secure", false))

		stats := eventually(d, "ui", "server_stats", any1)[0].(map[string]any)
		Expect(stats).To(HaveKeyWithValue("serverId", "node-a"))
		Expect(stats).To(HaveKeyWithValue("pid", BeNumerically(">", 0)))
		Expect(stats).To(HaveKeyWithValue("hostname", Not(BeEmpty())))
		Expect(stats).To(HaveKeyWithValue("uptime", BeNumerically(">=", 0)))
		Expect(stats).To(HaveKeyWithValue("clientsCount", BeNumerically("==", 2)))
		Expect(stats).To(HaveKeyWithValue("pollingClientsCount", BeNumerically("==", 0)))
		Expect(stats["namespaces"]).To(ContainElement(map[string]any{"name": "/chat", "socketsCount": float64(1)}))

		// a socket that starts on polling and upgrades
		p := connect(d, "p", base+"/chat", map[string]any{"transports": []string{"polling", "websocket"}})
		psid := p["sid"].(string)
		con := eventually(d, "ui", "socket_connected", func(a []any) bool { return a[0].(map[string]any)["id"] == psid })
		Expect(con[0]).To(HaveKeyWithValue("nsp", "/chat"))
		Expect(con[0]).To(HaveKeyWithValue("transport", "polling"))
		Expect(isISO(con[1])).To(BeTrue(), "timestamp %v", con[1])
		eventually(d, "ui", "room_joined", func(a []any) bool { return a[0] == "/chat" && a[1] == psid && a[2] == psid && isISO(a[3]) })
		eventually(d, "ui", "socket_updated", func(a []any) bool {
			m := a[0].(map[string]any)
			return m["id"] == psid && m["nsp"] == "/chat" && m["transport"] == "websocket"
		})
		// counted in the stats after it: a connection, packets and bytes,
		// per second
		for _, typ := range []string{"rawConnection", "packetsIn", "bytesIn", "packetsOut", "bytesOut"} {
			eventually(d, "ui", "server_stats", func(a []any) bool {
				for _, e := range a[0].(map[string]any)["aggregatedEvents"].([]any) {
					e := e.(map[string]any)
					ts, _ := e["timestamp"].(float64)
					if e["type"] == typ && e["count"].(float64) >= 1 && ts > 1.7e12 && int64(ts)%1000 == 0 {
						return true
					}
				}
				return false
			})
		}

		// events in (binary too) and out, and a room
		d.Send(map[string]any{"op": "emit", "id": "c", "event": "say", "args": []any{"hi", map[string]any{"$binary": base64.StdEncoding.EncodeToString([]byte{1, 2, 3})}}})
		in := eventually(d, "ui", "event_received", func(a []any) bool { return a[1] == sid })
		Expect(in[0]).To(Equal("/chat"))
		Expect(in[2]).To(Equal([]any{"say", "hi", map[string]any{"$binary": "AQID"}}))
		Expect(isISO(in[3])).To(BeTrue())
		out := eventually(d, "ui", "event_sent", func(a []any) bool { return a[1] == sid })
		Expect(out[2]).To(Equal([]any{"said", "hi", map[string]any{"$binary": "AQID"}}))
		Expect(isISO(out[3])).To(BeTrue())

		d.Send(map[string]any{"op": "emit", "id": "c", "event": "enter", "args": []any{"lobby"}})
		eventually(d, "ui", "room_joined", func(a []any) bool { return a[0] == "/chat" && a[1] == "lobby" && a[2] == sid })

		d.Send(map[string]any{"op": "disconnect", "id": "c"})
		gone := eventually(d, "ui", "socket_disconnected", func(a []any) bool { return a[1] == sid })
		Expect(gone[0]).To(Equal("/chat"))
		Expect(gone[2]).To(Equal("client namespace disconnect"))
		Expect(isISO(gone[3])).To(BeTrue())
		eventually(d, "ui", "server_stats", func(a []any) bool {
			for _, e := range a[0].(map[string]any)["aggregatedEvents"].([]any) {
				if e := e.(map[string]any); e["type"] == "rawDisconnection" && e["subType"] == "transport close" {
					return true
				}
			}
			return false
		})

		Expect(events(d, "ui", "event_received")).NotTo(ContainElement(HaveExactElements("/admin", Not(BeNil()), Not(BeNil()), Not(BeNil()))),
			"the UI's own traffic is not reported")
	})

	It("runs the UI's commands on the sockets a filter reaches: emit, join, leave and disconnect", func(ctx SpecContext) {
		base, srv := uiApp(ctx)
		sid := connect(d, "c", base+"/chat", nil)["sid"].(string)
		connect(d, "other", base+"/chat", nil)
		login(d, "ui", base)
		eventually(d, "ui", "config", any1)
		inRoom := func(room string) func() []string {
			return func() []string {
				socks, err := srv.Of("/chat").In(room).FetchSockets(ctx)
				Expect(err).NotTo(HaveOccurred())
				ids := []string{}
				for _, s := range socks {
					ids = append(ids, s.ID)
				}
				return ids
			}
		}

		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "emit", "args": []any{"/chat", sid, "notice", "from admin", 2}})
		eventually(d, "c", "notice", func(a []any) bool { return a[0] == "from admin" && a[1] == float64(2) })
		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "emit", "args": []any{"/chat", nil, "everyone"}})
		eventually(d, "other", "everyone", any1)
		eventually(d, "c", "everyone", any1)
		Expect(events(d, "other", "notice")).To(BeEmpty(), "the filter reached only its socket")

		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "join", "args": []any{"/chat", "vip", sid}})
		Eventually(inRoom("vip")).Should(ConsistOf(sid))
		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "join", "args": []any{"/chat", "all"}})
		Eventually(inRoom("all")).Should(HaveLen(2))
		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "leave", "args": []any{"/chat", "vip", "vip"}})
		Eventually(inRoom("vip")).Should(BeEmpty())

		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "_disconnect", "args": []any{"/chat", false, sid}})
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "c") }).Should(ConsistOf(HaveKeyWithValue("reason", "io server disconnect")))
		Consistently(func() []nodeclient.Report { return d.Find("disconnect", "other") }, "200ms").Should(BeEmpty())
	})

	It("in read-only mode announces no command and runs none", func(ctx SpecContext) {
		base, srv := uiApp(ctx, admin.WithUIReadOnly())
		sid := connect(d, "c", base+"/chat", nil)["sid"].(string)
		login(d, "ui", base)
		cfg := eventually(d, "ui", "config", any1)
		Expect(cfg[0]).To(HaveKeyWithValue("supportedFeatures", ConsistOf("AGGREGATED_EVENTS", "ALL_EVENTS")))
		eventually(d, "ui", "all_sockets", any1)

		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "join", "args": []any{"/chat", "vip", sid}, "ack": true, "seq": 1, "timeout": 2000})
		Eventually(func() []nodeclient.Report { return d.Find("ack", "ui") }).Should(HaveLen(1))
		d.Send(map[string]any{"op": "emit", "id": "ui", "event": "_disconnect", "args": []any{"/chat", true, sid}})
		socks, err := srv.Of("/chat").In("vip").FetchSockets(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(socks).To(BeEmpty())
		Consistently(func() []nodeclient.Report { return d.Find("disconnect", "c") }, "300ms").Should(BeEmpty())
	})

	It("in production mode sends the server stats but no socket list and no live stream", func(ctx SpecContext) {
		base, _ := uiApp(ctx, admin.WithProductionMode())
		login(d, "ui", base)
		cfg := eventually(d, "ui", "config", any1)
		Expect(cfg[0]).To(HaveKeyWithValue("supportedFeatures", ConsistOf(
			"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS")))
		connect(d, "c", base+"/chat", nil)
		d.Send(map[string]any{"op": "emit", "id": "c", "event": "say", "args": []any{"hi"}})
		eventually(d, "c", "said", any1)
		eventually(d, "ui", "server_stats", func(a []any) bool {
			return a[0].(map[string]any)["clientsCount"] == float64(2)
		})
		for _, ev := range []string{"all_sockets", "socket_connected", "room_joined", "event_received", "event_sent"} {
			Expect(events(d, "ui", ev)).To(BeEmpty(), ev)
		}
	})
})
