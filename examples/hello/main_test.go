package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/goleak"
)

// The README's example does what the README says.
func TestGreeter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := sockettest.NewServer(t, socketservice.AsService(func() *Greeter { return &Greeter{} }))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	ann, err := srv.Connect(ctx, "/greet")
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	bob, err := srv.Connect(ctx, "/greet")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()

	var reply string
	if err := ann.Call(ctx, "hello", Greeting{Name: "Ann"}, &reply); err != nil || reply != "hello, Ann" {
		t.Fatalf("reply %q, err %v", reply, err)
	}
	ev, err := bob.Next(ctx)
	if err != nil || ev.Name != "greeted" || ev.Args[0] != "hello, Ann" {
		t.Fatalf("bob got %v, %v", ev, err)
	}
	err = ann.Call(ctx, "hello", Greeting{}, nil)
	if ae := (*sockettest.AckError)(nil); !errors.As(err, &ae) || ae.Code != "VALIDATION_PAYLOAD_ERROR" {
		t.Fatalf("empty name: %v", err)
	}
	srv.Close()
}
