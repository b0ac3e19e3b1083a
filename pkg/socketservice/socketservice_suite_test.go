package socketservice_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestSocketservice(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(5 * time.Second)
	RunSpecs(t, "socketservice")
}

// leakCheck snapshots the goroutines alive before a spec and, after the
// spec's own cleanups (the fx app's stop among them), requires every new
// one to be gone.
func leakCheck(opts ...goleak.Option) {
	opts = append(opts, goleak.IgnoreCurrent())
	DeferCleanup(func() {
		Eventually(func() error { return goleak.Find(opts...) }).Should(Succeed())
	})
}
