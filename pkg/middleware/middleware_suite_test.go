package middleware_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/goleak"
)

func TestMiddleware(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(5 * time.Second)
	RunSpecs(t, "middleware")
}

func leakCheck() {
	before := goleak.IgnoreCurrent()
	DeferCleanup(func() { Eventually(func() error { return goleak.Find(before) }).Should(Succeed()) })
}

func ctxT() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	time.AfterFunc(6*time.Second, cancel)
	return ctx
}

// withNodeClient starts a test server of the service constructor makes,
// with the leak check, and the official Node client's driver; it returns
// the driver and the URL of namespace nsp.
func withNodeClient(constructor any, nsp string) (*nodeclient.Driver, string) {
	GinkgoHelper()
	leakCheck()
	srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(constructor))
	d, err := nodeclient.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(d.Close)
	return d, srv.URL + nsp
}
