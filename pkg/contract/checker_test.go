package contract_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/socketfx/socketfx/pkg/contract"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

var _ = Describe("Checker", func() {
	var k *contract.Checker
	BeforeEach(func() {
		var err error
		k, err = contract.NewChecker(kitchenSink())
		Expect(err).NotTo(HaveOccurred())
	})

	placed := func() map[string]any {
		return map[string]any{"at": time.Now().Format(time.RFC3339), "order": map[string]any{
			"id": "6f1c1d2e-6f5d-4e3f-9c1a-2b3c4d5e6f70", "created": "2026-12-04T10:00:00Z", "customer": "ann",
			"priority": "low", "quantity": 1.0, "price": 2.5, "labels": nil, "ship": nil,
			"billing": map[string]any{"street": "Main St"}, "lines": []any{map[string]any{"sku": "a"}}, "count": "1",
		}}
	}

	It("accepts a declared event whose payload matches", func() {
		Expect(k.CheckEmit("/shop", "order:placed", []any{placed()})).To(Succeed())
		Expect(k.CheckEmit("/shop", "file:ready", []any{[]byte{1, 2}})).To(Succeed())
	})

	It("refuses a payload that does not match, naming the field", func() {
		p := placed()
		p["order"].(map[string]any)["priority"] = "urgent"
		Expect(k.CheckEmit("/shop", "order:placed", []any{p})).To(MatchError(ContainSubstring("/0/order/priority")))
		Expect(k.CheckEmit("/shop", "order:placed", []any{placed(), 2.0})).To(MatchError(ContainSubstring("order:placed")))
	})

	It("refuses an undeclared event and an unknown namespace", func() {
		Expect(k.CheckEmit("/shop", "order:gone", nil)).To(MatchError(contract.ErrUndeclared))
		Expect(k.CheckEmit("/nowhere", "x", nil)).To(MatchError(contract.ErrUndeclared))
	})

	It("checks acks: the envelope and its declared codes, and the Args of a raw handler", func() {
		Expect(k.CheckAck("/shop", "ping", []any{map[string]any{"status": "ok", "data": nil}})).To(Succeed())
		Expect(k.CheckAck("/shop", "ping", []any{map[string]any{"status": "error", "error": map[string]any{"code": "VALIDATION_PAYLOAD_ERROR", "message": "x"}}})).To(Succeed())
		Expect(k.CheckAck("/shop", "ping", []any{map[string]any{"status": "error", "error": map[string]any{"code": "NOPE", "message": "x"}}})).To(MatchError(ContainSubstring("/0/error/code")))
		Expect(k.CheckAck("/shop", "record", []any{1.0, "two"})).To(Succeed(), "Args are the ack's arguments")
		Expect(k.CheckAck("/shop", "upload", []any{3.0})).To(Succeed())
		Expect(k.CheckAck("/shop", "upload", []any{map[string]any{"status": "error", "error": map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "x"}}})).To(Succeed())
	})

	It("finds route and pattern namespaces by their concrete names", func() {
		Expect(k.Namespace("/tenant/42/room/a")).NotTo(BeNil())
		Expect(k.Namespace("/tenant/x/room/a")).To(BeNil())
		Expect(k.Namespace("/worker-7").Ident).To(Equal("Workers"))
	})
})

type twice struct{}

func (twice) Register(r *socketservice.Router) {
	r.Namespace("/twice")
	r.Emits(socketservice.Event[int]("n"), socketservice.Event[string]("n"), socketservice.Event[int]("disconnect"))
}

// clash declares "n" as an int and sends a string as "n" from a handler.
type clash struct{}

func (clash) Register(r *socketservice.Router) {
	r.Namespace("/clash")
	r.Emits(socketservice.Event[int]("n"))
	r.Handle("x", socketservice.Typed0(func(context.Context) (string, error) { return "", nil }), socketservice.WithEmit("n"))
}

var _ = Describe("socketservice.Describe", func() {
	It("makes the start fail on an emit option that contradicts a declared event", func() {
		srv, err := socketservice.New(socketservice.Config{}, socketservice.WithServices(clash{}))
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Start(context.Background())).To(MatchError(ContainSubstring(`emit "n" declared with two payload types, int and string`)))
	})

	It("refuses an event declared with two payload types, and reserved names", func() {
		_, err := socketservice.Describe(twice{})
		Expect(err).To(MatchError(SatisfyAll(ContainSubstring(`emit "n" declared with two payload types`), ContainSubstring(`"disconnect"`))))
	})

	It("describes route parameters and the declared errors", func() {
		d, err := socketservice.Describe(Shop{}, Tenant{})
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Namespaces[1].Address).To(Equal("/tenant/{id}/room/{room}"))
		Expect(d.Namespaces[1].Params).To(Equal([]socketservice.ParamDescription{{Name: "id", Pattern: "[0-9]+"}, {Name: "room", Pattern: "[^/]+"}}))
		var place socketservice.EventDescription
		for _, e := range d.Namespaces[0].Events {
			if e.Name == "order:place" {
				place = e
			}
		}
		Expect(place.Errors).To(Equal([]socketservice.Code{"INTERNAL_SERVER_ERROR", "ORDER_CLOSED", "RATE_LIMITED", "VALIDATION_PAYLOAD_ERROR"}))
	})
})
