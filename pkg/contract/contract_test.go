package contract_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/socketfx/socketfx/internal/contracttest"
	"github.com/socketfx/socketfx/pkg/contract"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// golden compares got with testdata/name; SOCKETFX_UPDATE_GOLDEN=1 writes it.
func golden(name string, got []byte) {
	GinkgoHelper()
	path := filepath.Join("testdata", name)
	if os.Getenv("SOCKETFX_UPDATE_GOLDEN") == "1" {
		Expect(os.WriteFile(path, got, 0o600)).To(Succeed())
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "run with SOCKETFX_UPDATE_GOLDEN=1 to create "+path)
	Expect(string(got)).To(Equal(string(want)), "the generated %s changed; if on purpose, run with SOCKETFX_UPDATE_GOLDEN=1", name)
}

func kitchenSink() *contract.Contract {
	GinkgoHelper()
	d, err := socketservice.Describe(Shop{}, Tenant{}, Workers{})
	Expect(err).NotTo(HaveOccurred())
	c, err := contract.New(d, contract.WithTitle("shop"), contract.WithVersion("1.2.3"), contract.WithServerURL("https://shop.example.com"))
	Expect(err).NotTo(HaveOccurred())
	return c
}

func readFile(name string) string {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

var _ = Describe("the generators, on services that use every feature", func() {
	It("write the golden AsyncAPI document, and it is valid AsyncAPI 3.0.0", func() {
		doc, err := kitchenSink().AsyncAPI()
		Expect(err).NotTo(HaveOccurred())
		golden("shop.asyncapi.json", doc)
		sch, err := contracttest.AsyncAPISchema()
		Expect(err).NotTo(HaveOccurred())
		Expect(contracttest.ValidateAsyncAPI(sch, doc)).To(Succeed())

		By("the validator refusing a document that is not")
		var m map[string]any
		Expect(json.Unmarshal(doc, &m)).To(Succeed())
		m["channels"].(map[string]any)["Shop"].(map[string]any)["address"] = 42
		bad, _ := json.Marshal(m)
		Expect(contracttest.ValidateAsyncAPI(sch, bad)).To(MatchError(ContainSubstring("/channels/Shop")))
	})

	It("write the golden TypeScript, which a strict tsc compiles with a client that uses it right", func() {
		ts := kitchenSink().TypeScript()
		golden("shop.d.ts", ts)
		out, err := contracttest.CompileTS(ts, readFile("client_ok.ts"))
		Expect(err).NotTo(HaveOccurred(), out)
	})

	It("write TypeScript that refuses a client that uses it wrong", func() {
		out, err := contracttest.CompileTS(kitchenSink().TypeScript(), readFile("client_bad.ts"))
		Expect(err).To(MatchError(contracttest.ErrTypeErrors))
		Expect(out).To(SatisfyAll(
			ContainSubstring(`'custmer' does not exist in type 'Order'`),
			ContainSubstring(`Property 'data' does not exist`),
			ContainSubstring(`"order:cancel"`),
			ContainSubstring(`main.ts(13,`),
		), out)
		Expect(strings.Count(out, "error TS")).To(Equal(4), out)
	})

	It("write the golden JSON Schema bundle", func() {
		doc, err := kitchenSink().JSONSchema()
		Expect(err).NotTo(HaveOccurred())
		golden("shop.schema.json", doc)
	})
})
