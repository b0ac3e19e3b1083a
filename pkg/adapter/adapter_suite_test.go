package adapter_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestAdapter(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(20 * time.Millisecond)
	RunSpecs(t, "adapter")
}

// leakCheck fails the spec if it leaves goroutines behind after its
// cleanups (nodes and Redis stopped).
func leakCheck(opts ...goleak.Option) {
	opts = append(opts, goleak.IgnoreCurrent())
	DeferCleanup(func() {
		Eventually(func() error { return goleak.Find(opts...) }).Should(Succeed())
	})
}
