package contract_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/socketfx/socketfx/pkg/contract"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// ChatMessage is what the chat sends to a room.
type ChatMessage struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// SendRequest is the payload of chat:send.
type SendRequest struct {
	Room string `json:"room" validate:"required,max=64"`
	Text string `json:"text" validate:"required,max=2000"`
}

// messageSent is a declared server-to-client event: Emit takes a
// ChatMessage and nothing else, and the contract lists it.
const messageSent = socketservice.Event[ChatMessage]("chat:message")

type Chat struct{}

func (Chat) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	r.Emits(messageSent)
	r.Handle("chat:send", socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, in SendRequest) (ChatMessage, error) {
		msg := ChatMessage(in)
		return msg, messageSent.Emit(s.To(in.Room), msg)
	}), socketservice.WithErrors(socketservice.CodeRateLimited))
}

// The TypeScript declarations of a service, for socket.io-client 4.
func ExampleContract_TypeScript() {
	d, err := socketservice.Describe(Chat{})
	if err != nil {
		panic(err)
	}
	c, err := contract.New(d, contract.WithTitle("chat"))
	if err != nil {
		panic(err)
	}
	ts := string(c.TypeScript())
	start := strings.Index(ts, "export namespace Chat")
	fmt.Print(ts[start:])
	// Output:
	// export namespace Chat {
	//   /** The namespace to connect to: io(url + "/chat"). */
	//   type Name = "/chat";
	//   /** Events the server sends: socket.on(event, listener). */
	//   interface ServerToClientEvents {
	//     "chat:message": (payload: ChatMessage) => void;
	//   }
	//   /** Events the server handles: socket.emit(event, ...args, ack) or emitWithAck. */
	//   interface ClientToServerEvents {
	//     "chat:send": (input: SendRequest, ack: (res: Ack<ChatMessage, "INTERNAL_SERVER_ERROR" | "RATE_LIMITED" | "VALIDATION_PAYLOAD_ERROR">) => void) => void;
	//   }
	// }
}

// Handler serves the contract of a running server's services, built from
// the routers the server built at start.
func ExampleHandler() {
	srv, err := socketservice.New(socketservice.Config{}, socketservice.WithServices(Chat{}))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /asyncapi.json", contract.Handler(srv, contract.AsyncAPI, contract.WithTitle("chat"), contract.WithVersion("1.0.0")))
	mux.Handle("GET /socketfx.d.ts", contract.Handler(srv, contract.TypeScript))
	mux.Handle("/socket.io/", srv.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/asyncapi.json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(strings.Contains(rec.Body.String(), `"address": "/chat"`))
	// Output:
	// 200 application/json; charset=utf-8
	// true
}

// Command writes the contract of an fx app without starting it: the body
// of a go:generate program, or of an app's "contract" subcommand.
func ExampleCommand() {
	app := fx.Options(
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: ":8080"}),
		socketservice.AsService(func() Chat { return Chat{} }),
	)
	// In main: contract.Command(os.Args[2:], os.Stdout, app)
	args := []string{"-format", "typescript", "-o", os.DevNull}
	if err := contract.Command(args, os.Stdout, app); err != nil {
		panic(err)
	}
	fmt.Println("written; nothing listened on :8080")
	// Output: written; nothing listened on :8080
}
