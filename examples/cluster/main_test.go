package main

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

// Two nodes on one Redis: what is published over HTTP on one node reaches a
// subscriber on the other, as the README says.
func TestTwoNodes(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) }) // after Redis stopped
	r := redistest.Start(t)
	var urls []string
	for i := 0; i < 2; i++ {
		var l *Listener
		app := fxtest.New(t, Node("127.0.0.1:0", r.URL()), fx.Populate(&l), fx.NopLogger)
		app.RequireStart()
		defer app.RequireStop()
		urls = append(urls, "http://"+l.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := sockettest.Connect(ctx, urls[1], "/live")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Call(ctx, "subscribe", Topic{Topic: "prices"}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(urls[0]+"/publish", "application/json", bytes.NewBufferString(`{"topic":"prices","data":{"eur":1.08}}`))
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %v %v", res, err)
	}
	res.Body.Close()
	ev, err := sub.WaitFor(ctx, "update")
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Args[0].(map[string]any)["eur"]; got != 1.08 {
		t.Fatalf("update %v", ev.Args)
	}
}
