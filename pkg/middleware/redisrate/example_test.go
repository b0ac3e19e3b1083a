package redisrate_test

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/middleware/redisrate"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

type chat struct{ limit socketservice.Middleware }

func (c chat) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	r.Handle("chat:message", socketservice.Typed(func(ctx context.Context, text string) (string, error) { return text, nil }),
		socketservice.WithMiddleware(c.limit), socketservice.WithErrors(socketservice.CodeRateLimited))
}

// Each user may send 10 messages a second, bursts of 20, on all the
// cluster's nodes together.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	limit, err := redisrate.New(redisrate.Config{Client: client, Name: "chat", Rate: 10, Burst: 20})
	if err != nil {
		panic(err)
	}
	_ = chat{limit: limit}
	fmt.Println("limited")
	// Output: limited
}
