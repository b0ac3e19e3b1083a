package contract_test

import (
	"context"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// The kitchen-sink services of the golden files: every feature the
// generators know.

type Priority string

// Record is a Go name TypeScript keeps for itself: the generator renames it.
type Record struct {
	Named
	*Extra
	Name  int               `json:"name"`                // wins over Named.Name, as in encoding/json
	Tie   string            `json:"tie,omitempty"`       // wins over the two embedded "tie"s
	Level *int              `json:"level,string"`        // a quoted number, or null
	Codes []string          `validate:"dive,len=3"`      // rules for the elements only
	Opt   map[string]string `validate:"omitempty,max=3"` // optional, and null when sent nil
}

type Named struct {
	Name string `json:"name"`
	Tie  string `json:"tie"`
	Only string `json:"only"`
}

type Extra struct {
	Tie  string `json:"tie"`
	Note string `json:"note"` // promoted through a pointer: absent when nil
}

type Address struct {
	Street string `json:"street" validate:"required,max=100"`
	City   string `json:"city,omitempty"`
}

type Base struct {
	ID      string    `json:"id" validate:"uuid"`
	Created time.Time `json:"created"`
}

type Order struct {
	Base
	Customer string            `json:"customer" validate:"required,min=2,max=40" doc:"the customer's name"`
	Email    string            `json:"email,omitempty" validate:"omitempty,email"`
	Priority Priority          `json:"priority" validate:"oneof=low normal high"`
	Quantity int               `json:"quantity" validate:"gte=1,lte=99"`
	Price    float64           `json:"price" validate:"gt=0"`
	Tags     []string          `json:"tags,omitempty" validate:"max=5,dive,max=20"`
	Labels   map[string]string `json:"labels"`
	Ship     *Address          `json:"ship"`
	Billing  Address           `json:"billing"`
	Lines    []Line            `json:"lines" validate:"min=1"`
	Note     []byte            `json:"note,omitempty"`
	Count    int64             `json:"count,string"`
	Extra    any               `json:"extra,omitempty"`
	//lint:ignore U1000 an unexported field, which the schema must leave out
	internal int
	Skipped  string `json:"-"`
}

type Line struct {
	SKU  string `json:"sku"`
	Next *Line  `json:"next,omitempty"`
}

type Page[T any] struct {
	Items []T `json:"items"`
	Next  int `json:"next"`
}

type Placed struct {
	Order Order     `json:"order"`
	At    time.Time `json:"at"`
}

const (
	orderPlaced = socketservice.Event[Placed]("order:placed")
	fileReady   = socketservice.Event[[]byte]("file:ready")
)

type Auth struct {
	Token string `json:"token" validate:"required"`
}

type Shop struct{}

func (Shop) Register(r *socketservice.Router) {
	r.Namespace("/shop")
	r.ExpectAuth(Auth{})
	r.Emits(orderPlaced, fileReady)
	r.Handle("order:place", socketservice.Typed(func(ctx context.Context, o Order) (Placed, error) {
		return Placed{Order: o}, nil
	}), socketservice.WithErrors("ORDER_CLOSED", socketservice.CodeRateLimited), socketservice.WithBroadcastOthers("order:new"))
	r.Handle("order:list", socketservice.Typed2(func(ctx context.Context, page int, filter *string) (Page[Order], error) {
		return Page[Order]{}, nil
	}))
	r.Handle("ping", socketservice.Typed0(func(ctx context.Context) (socketservice.NoReply, error) {
		return socketservice.NoReply{}, nil
	}))
	r.Handle("upload", socketservice.Typed(func(ctx context.Context, b []byte) (int, error) { return len(b), nil }),
		socketservice.WithRawResponse())
	r.Handle("record", socketservice.Typed(func(ctx context.Context, rec Record) (socketservice.Args, error) {
		return socketservice.Args{1, "two"}, nil
	}), socketservice.WithRawResponse())
	r.HandleFunc("legacy", func(ctx context.Context, m *socketservice.Message) (any, error) { return nil, nil },
		socketservice.WithEmit("legacy:done"))
}

type Tenant struct{}

type TenantInfo struct {
	Tenant string `json:"tenant"`
}

func (Tenant) Register(r *socketservice.Router) {
	r.Namespace("/tenant/{id:[0-9]+}/room/{room}")
	r.Handle("info", socketservice.Typed0(func(ctx context.Context) (TenantInfo, error) { return TenantInfo{}, nil }))
}

type Workers struct{}

func (Workers) Register(r *socketservice.Router) {
	r.NamespacePattern(`/worker-(?P<n>\d+)`)
	r.Route("job:", func(r *socketservice.Router) {
		r.Handle("run", socketservice.Typed(func(ctx context.Context, in map[string]any) ([]string, error) { return nil, nil }))
	})
}
