package socketservice_test

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// The ws library (under the Node client) emits "close" on a client-initiated
// close only once the server has closed the TCP connection; a server that
// never does leaves the client waiting for ws's 30 s close timeout, and
// leaves its own socket in CLOSE_WAIT with an fd held.
var _ = Describe("client-initiated websocket close from the official Node client", func() {
	var (
		srv  *sockettest.Server
		d    *nodeclient.Driver
		port int
	)
	BeforeEach(func() {
		leakCheck()
		srv = sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho))
		u, err := url.Parse(srv.URL)
		Expect(err).NotTo(HaveOccurred())
		port, err = strconv.Atoi(u.Port())
		Expect(err).NotTo(HaveOccurred())
		d, err = nodeclient.StartScript("wsclose.js")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
	})

	report := func(typ string, seq int) func() nodeclient.Report {
		return func() nodeclient.Report {
			for _, r := range d.Reports() {
				if r.Type() == typ && r["seq"] == float64(seq) {
					return r
				}
			}
			return nil
		}
	}
	diag := func() string { return fmt.Sprintf("reports: %v\nstderr: %s", d.Reports(), d.Stderr()) }

	It("completes the close: the client's ws sees it well under ws's 30 s close timeout", func() {
		d.Send(map[string]any{"op": "close", "url": srv.URL + "/echo", "seq": 1})
		Eventually(report("closed", 1)).ShouldNot(BeNil(), diag)
		r := report("closed", 1)()
		Expect(r).NotTo(HaveKey("error"), diag)
		Expect(r["ms"]).To(BeNumerically("<", 2000), "ws close took %v ms", r["ms"])
		Eventually(srv.Socket.Of("/echo").Count).Should(BeZero())
	})

	It("leaves no extra fd and no CLOSE_WAIT socket after 500 client closes", func() {
		baseline := countFDs()
		d.Send(map[string]any{"op": "cycles", "url": srv.URL + "/echo", "n": 500, "conc": 10, "seq": 2})
		Eventually(report("cycles", 2)).WithTimeout(20e9).ShouldNot(BeNil(), diag)
		r := report("cycles", 2)()
		Expect(r["done"]).To(Equal(float64(500)), diag)
		Expect(r["maxMs"]).To(BeNumerically("<", 2000), diag)
		Eventually(srv.Socket.Of("/echo").Count).Should(BeZero())
		Eventually(countFDs).Should(BeNumerically("<=", baseline+5), "fds before: %d", baseline)
		Eventually(func() []string { return closeWait(port) }).Should(BeEmpty())
	})
})

// countFDs counts this process's open file descriptors.
func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return len(ents)
}

// closeWait lists the /proc/self/net/tcp{,6} lines of sockets with local
// port port in state 08 (CLOSE_WAIT).
func closeWait(port int) []string {
	var out []string
	suffix := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue // no IPv6
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[0] == "sl" {
				continue
			}
			if strings.HasSuffix(fields[1], suffix) && fields[3] == "08" {
				out = append(out, sc.Text())
			}
		}
		_ = fh.Close()
	}
	return out
}
