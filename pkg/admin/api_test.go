package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/admin"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/goleak"
)

// bearer lets "writer" do anything and "reader" only read.
func bearer(r *http.Request, a admin.Access) error {
	switch r.Header.Get("Authorization") {
	case "Bearer writer":
		return nil
	case "Bearer reader":
		if a == admin.Read {
			return nil
		}
		return fmt.Errorf("reader may not %s: %w", a, admin.ErrForbidden)
	}
	return admin.ErrUnauthorized
}

type answer struct {
	Status int
	Body   map[string]any
}

func call(base, token, method, path string, body any) answer {
	GinkgoHelper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		Expect(err).NotTo(HaveOccurred())
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, base+path, rd)
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	out := answer{Status: res.StatusCode}
	raw, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	if len(raw) > 0 {
		Expect(res.Header.Get("Content-Type")).To(Equal("application/json"))
		Expect(json.Unmarshal(raw, &out.Body)).To(Succeed(), string(raw))
	}
	return out
}

// errorCode is the code of an error answer.
func errorCode(a answer) any {
	e, _ := a.Body["error"].(map[string]any)
	return e["code"]
}

var _ = Describe("the REST API, on node 0 of a two-node cluster, for sockets of node 1", Ordered, func() {
	var (
		c       *clustertest.Cluster
		base    string
		a, b    *sockettest.Client
		ctx     context.Context
		readAPI string
	)
	BeforeAll(func() {
		opts := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(opts...) }).Should(Succeed()) })
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		DeferCleanup(cancel)
		c = clustertest.Start(GinkgoT(), 2, socketservice.AsService(func() chat { return chat{} }))
		c.Ready("/chat", 10*time.Second)
		api, err := admin.NewAPI(c.Node(0).Socket, bearer, admin.WithTimeout(3*time.Second))
		Expect(err).NotTo(HaveOccurred())
		hs := httptest.NewServer(http.StripPrefix("/admin/api", api))
		DeferCleanup(hs.Close)
		base = hs.URL + "/admin/api"
		ro, err := admin.NewAPI(c.Node(0).Socket, bearer, admin.WithReadOnly())
		Expect(err).NotTo(HaveOccurred())
		rs := httptest.NewServer(ro)
		DeferCleanup(rs.Close)
		readAPI = rs.URL
		for _, cl := range []**sockettest.Client{&a, &b} {
			*cl, err = c.Connect(ctx, 1, "/chat")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup((*cl).Close)
		}
	})

	It("refuses without the hook's consent: 401 without a token, 403 for a reader's POST or any POST when read-only", func() {
		Expect(call(base, "", "GET", "/info", nil)).To(And(
			HaveField("Status", http.StatusUnauthorized), WithTransform(errorCode, Equal("unauthorized"))))
		Expect(call(base, "nobody", "POST", "/broadcast", map[string]any{"event": "x"}).Status).To(Equal(http.StatusUnauthorized))
		Expect(call(base, "reader", "GET", "/info", nil).Status).To(Equal(http.StatusOK))
		r := call(base, "reader", "POST", "/broadcast?nsp=/chat", map[string]any{"event": "x"})
		Expect(r.Status).To(Equal(http.StatusForbidden))
		Expect(errorCode(r)).To(Equal("forbidden"))
		r = call(readAPI, "writer", "POST", "/broadcast?nsp=/chat", map[string]any{"event": "x"})
		Expect(r.Status).To(Equal(http.StatusForbidden))
		Expect(errorCode(r)).To(Equal("read_only"))
		Expect(call(readAPI, "writer", "GET", "/clients?nsp=/chat", nil).Status).To(Equal(http.StatusOK))
		Consistently(a.Events, "100ms").Should(BeEmpty(), "nothing refused was sent")
		_, err := admin.NewAPI(c.Node(0).Socket, nil)
		Expect(err).To(MatchError(ContainSubstring("Authorize")))
	})

	It("GET info: ready, this node's sockets, and the cluster's nodes and sockets", func() {
		r := call(base, "reader", "GET", "/info?nsp=/chat", nil)
		Expect(r.Status).To(Equal(http.StatusOK))
		Expect(r.Body).To(HaveKeyWithValue("ready", true))
		Expect(r.Body["node"]).To(HaveKeyWithValue("sockets", 0.0))
		Expect(r.Body["cluster"]).To(And(HaveKeyWithValue("enabled", true), HaveKeyWithValue("up", true),
			HaveKeyWithValue("nodes", 2.0), HaveKeyWithValue("sockets", 2.0)))
		Expect(call(base, "reader", "GET", "/health", nil)).To(And(
			HaveField("Status", http.StatusOK), HaveField("Body", HaveKeyWithValue("status", "ok"))))
	})

	It("GET clients: every socket of the cluster, sorted and paged", func() {
		ids := []string{a.ID(), b.ID()}
		if ids[0] > ids[1] {
			ids[0], ids[1] = ids[1], ids[0]
		}
		r := call(base, "reader", "GET", "/clients?nsp=/chat&limit=1", nil)
		Expect(r.Status).To(Equal(http.StatusOK))
		Expect(r.Body).To(HaveKeyWithValue("total", 2.0))
		Expect(r.Body["clients"]).To(HaveExactElements(map[string]any{"id": ids[0], "rooms": []any{ids[0]}}))
		Expect(r.Body).To(HaveKeyWithValue("next", ids[0]))
		r = call(base, "reader", "GET", "/clients?nsp=/chat&limit=1&cursor="+ids[0], nil)
		Expect(r.Body["clients"]).To(HaveExactElements(HaveKeyWithValue("id", ids[1])))
		Expect(r.Body).NotTo(HaveKey("next"))
		r = call(base, "reader", "GET", "/clients?nsp=chat", nil)
		Expect(r.Body["clients"]).To(HaveLen(2), "nsp without its slash")
		Expect(errorCode(call(base, "reader", "GET", "/clients?nsp=/chat&limit=5000", nil))).To(Equal("bad_request"))
		Expect(call(base, "reader", "GET", "/clients", nil).Body).To(HaveKeyWithValue("total", 0.0), "the default namespace is /")
	})

	It("POST broadcast, room send and client send reach sockets of the other node", func() {
		Expect(call(base, "writer", "POST", "/broadcast?nsp=/chat", map[string]any{"event": "news", "data": map[string]any{"n": 1}}).Status).To(Equal(http.StatusAccepted))
		Eventually(a).Should(sockettest.ReceiveEvent("news", map[string]any{"n": 1.0}))
		Eventually(b).Should(sockettest.ReceiveEvent("news", map[string]any{"n": 1.0}))

		var got string
		Expect(a.Call(ctx, "enter", "lobby", &got)).To(Succeed())
		Expect(call(base, "writer", "POST", "/room/lobby/send?nsp=/chat", map[string]any{"event": "lobby", "args": []any{"x", 2}}).Status).To(Equal(http.StatusAccepted))
		Eventually(a).Should(sockettest.ReceiveEvent("lobby", "x", 2.0))

		r := call(base, "writer", "POST", "/client/"+b.ID()+"/send?nsp=/chat", map[string]any{"event": "direct"})
		Expect(r.Status).To(Equal(http.StatusAccepted))
		Expect(r.Body).To(HaveKeyWithValue("to", b.ID()))
		Eventually(b).Should(sockettest.ReceiveEvent("direct"))
		Consistently(func() []sockettest.Event { return b.Events() }, "100ms").ShouldNot(ContainElement(HaveField("Name", "lobby")))
		Expect(a.Events()).NotTo(ContainElement(HaveField("Name", "direct")))
	})

	It("POST client join and leave, GET its rooms, POST disconnect", func() {
		path := "/client/" + b.ID()
		Expect(call(base, "writer", "POST", path+"/join?nsp=/chat", map[string]any{"rooms": []string{"x", "y"}}).Status).To(Equal(http.StatusAccepted))
		Eventually(func() any { return call(base, "reader", "GET", path+"/rooms?nsp=/chat", nil).Body["rooms"] }).
			Should(ConsistOf(b.ID(), "x", "y"))
		Expect(call(base, "writer", "POST", path+"/leave?nsp=/chat", map[string]any{"rooms": []string{"x"}}).Status).To(Equal(http.StatusAccepted))
		Eventually(func() any { return call(base, "reader", "GET", path+"/rooms?nsp=/chat", nil).Body["rooms"] }).
			Should(ConsistOf(b.ID(), "y"))
		Expect(call(base, "writer", "POST", path+"/disconnect?nsp=/chat", nil).Status).To(Equal(http.StatusAccepted))
		Eventually(b.Done()).Should(BeClosed())
		Expect(b.DisconnectReason()).To(Equal("io server disconnect"))
		Eventually(func() int {
			return call(base, "writer", "POST", path+"/send?nsp=/chat", map[string]any{"event": "e"}).Status
		}).
			Should(Equal(http.StatusNotFound))
		Expect(a.Connected()).To(BeTrue())
	})

	DescribeTable("bad requests get a JSON error with a code, and change nothing",
		func(method, path string, body any, status int, code string) {
			r := call(base, "writer", method, path, body)
			Expect(r.Status).To(Equal(status))
			Expect(errorCode(r)).To(Equal(code))
			Expect(r.Body["error"]).To(HaveKeyWithValue("message", Not(BeEmpty())))
		},
		Entry("unknown socket", "POST", "/client/nope/send?nsp=/chat", map[string]any{"event": "e"}, 404, "unknown_socket"),
		Entry("unknown socket's rooms", "GET", "/client/nope/rooms?nsp=/chat", nil, 404, "unknown_socket"),
		Entry("unknown namespace", "GET", "/clients?nsp=/nowhere", nil, 404, "unknown_namespace"),
		Entry("unknown namespace for a send", "POST", "/broadcast?nsp=/nowhere", map[string]any{"event": "e"}, 404, "unknown_namespace"),
		Entry("no body", "POST", "/broadcast?nsp=/chat", nil, 400, "bad_request"),
		Entry("not JSON", "POST", "/broadcast?nsp=/chat", "{event", 400, "bad_request"),
		Entry("unknown field", "POST", "/broadcast?nsp=/chat", map[string]any{"event": "e", "dta": 1}, 400, "bad_request"),
		Entry("no event", "POST", "/broadcast?nsp=/chat", map[string]any{"data": 1}, 400, "bad_request"),
		Entry("a reserved event", "POST", "/broadcast?nsp=/chat", map[string]any{"event": "disconnect"}, 400, "bad_request"),
		Entry("data and args", "POST", "/broadcast?nsp=/chat", map[string]any{"event": "e", "data": 1, "args": []int{1}}, 400, "bad_request"),
		Entry("no rooms", "POST", "/client/x/join?nsp=/chat", map[string]any{"rooms": []string{}}, 400, "bad_request"),
		Entry("a body over 1 MiB", "POST", "/broadcast?nsp=/chat", `{"event":"e","data":"`+strings.Repeat("x", 1<<20)+`"}`, 413, "bad_request"),
		Entry("wrong method", "GET", "/broadcast", nil, 405, "method_not_allowed"),
		Entry("unknown endpoint", "GET", "/nothing", nil, 404, "not_found"),
	)
})
