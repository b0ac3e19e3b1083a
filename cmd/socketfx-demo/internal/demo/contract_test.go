package demo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/cmd/socketfx-demo/internal/demo"
	"github.com/socketfx/socketfx/internal/contracttest"
	"github.com/socketfx/socketfx/pkg/contract"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

var _ = Describe("the demo's contract", Ordered, func() {
	var base string
	served := map[string][]byte{}
	BeforeAll(func() {
		var h *socketservice.Server
		app := fxtest.New(GinkgoT(), demo.Module,
			fx.Supply(demo.Config{Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(GinkgoWriter, nil))),
			fx.Populate(&h), fx.NopLogger)
		app.RequireStart()
		DeferCleanup(app.RequireStop)
		base = demo.URL(h)
		for path, ctype := range map[string]string{
			"/asyncapi.json":        "application/json",
			"/socketfx.d.ts":        "application/typescript",
			"/contract.schema.json": "application/schema+json",
		} {
			res, err := http.Get(base + path)
			Expect(err).NotTo(HaveOccurred())
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			Expect(err).NotTo(HaveOccurred())
			Expect(res.StatusCode).To(Equal(http.StatusOK), path)
			Expect(res.Header.Get("Content-Type")).To(HavePrefix(ctype), path)
			served[path] = body
		}
	})

	It("is what 'socketfx-demo contract' writes without starting the app", func() {
		app := fx.Options(demo.App(demo.Config{}), fx.Supply(slog.New(slog.NewTextHandler(GinkgoWriter, nil))))
		for path, f := range map[string]contract.Format{
			"/asyncapi.json": contract.AsyncAPI, "/socketfx.d.ts": contract.TypeScript, "/contract.schema.json": contract.JSONSchema,
		} {
			var out bytes.Buffer
			Expect(contract.Command([]string{"-format", string(f)}, &out, app, demo.ContractOptions()...)).To(Succeed())
			Expect(out.String()).To(Equal(string(served[path])), path)
		}
	})

	It("is a valid AsyncAPI 3.0.0 document with the chat's events, and no Admin UI", func() {
		sch, err := contracttest.AsyncAPISchema()
		Expect(err).NotTo(HaveOccurred())
		Expect(contracttest.ValidateAsyncAPI(sch, served["/asyncapi.json"])).To(Succeed())
		var doc struct {
			Channels map[string]struct {
				Address  *string
				Messages map[string]struct{ Name string }
			}
			Operations map[string]struct{ Action string }
		}
		Expect(json.Unmarshal(served["/asyncapi.json"], &doc)).To(Succeed())
		Expect(doc.Channels).To(HaveKey("Chat"))
		Expect(doc.Channels).NotTo(HaveKey("UI"), "the Admin UI's namespace is left out")
		Expect(*doc.Channels["Chat"].Address).To(Equal("/chat"))
		Expect(doc.Channels["TenantRoutes"].Address).To(HaveValue(Equal("/tenant/{id}")))
		Expect(doc.Channels["Tenants"].Address).To(BeNil(), "a pattern has no address")
		Expect(doc.Operations["Chat.send.chat_message"].Action).To(Equal("send"))
		Expect(doc.Operations["Chat.receive.chat_message"].Action).To(Equal("receive"))
	})

	It("types a client that tsc --strict compiles and that works against the demo", func(ctx SpecContext) {
		main, err := os.ReadFile(filepath.Join("testdata", "contract_ok.ts"))
		Expect(err).NotTo(HaveOccurred())
		dir, out, err := contracttest.BuildTS(served["/socketfx.d.ts"], string(main), true)
		DeferCleanup(os.RemoveAll, dir)
		Expect(err).NotTo(HaveOccurred(), out)
		run := exec.CommandContext(ctx, "node", filepath.Join(dir, "main.js"), base)
		var stderr bytes.Buffer
		run.Stderr = &stderr
		got, err := run.Output()
		Expect(err).NotTo(HaveOccurred(), stderr.String())
		Expect(got).To(MatchJSON(`{"same":true,"got":"hello","from":"ann","rooms":["lobby"],"code":"VALIDATION_PAYLOAD_ERROR"}`))
	}, SpecTimeout(30*time.Second))

	It("refuses, at compile time, a client that gets the events wrong", func() {
		main, err := os.ReadFile(filepath.Join("testdata", "contract_bad.ts"))
		Expect(err).NotTo(HaveOccurred())
		out, err := contracttest.CompileTS(served["/socketfx.d.ts"], string(main))
		Expect(err).To(MatchError(contracttest.ErrTypeErrors))
		Expect(out).To(SatisfyAll(
			ContainSubstring(`'name' does not exist in type 'JoinRequest'`),
			ContainSubstring(`Type 'number' is not assignable to type 'string'`),
			ContainSubstring(`Property 'data' does not exist`),
			ContainSubstring(`Property 'body' does not exist on type 'Message'`),
		), out)
		Expect(strings.Count(out, "error TS")).To(Equal(4), out)
	})
})
