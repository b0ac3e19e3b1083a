package socketservice

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
)

type fuzzIn struct {
	Text  string            `json:"text"`
	N     int               `json:"n"`
	Tags  []string          `json:"tags"`
	Inner *struct{ X bool } `json:"inner"`
}

func (f fuzzIn) Validate() error {
	if f.N < 0 {
		return errors.New("n must not be negative")
	}
	return nil
}

// FuzzTypedArgs feeds arbitrary event arguments (any JSON array, as the
// parser would decode it) to typed handlers of several shapes, through the
// whole chain: no panic may escape, and every event gets exactly one ack,
// either ok or VALIDATION_PAYLOAD_ERROR.
//
//	go test -run '^$' -fuzz FuzzTypedArgs -fuzztime 30s ./pkg/socketservice/
func FuzzTypedArgs(f *testing.F) {
	for _, seed := range []string{
		`[]`, `[{"text":"hi","n":1}]`, `["x"]`, `[null]`, `[1,2,3]`, `[{"text":42}]`,
		`[{"n":-1}]`, `[{"tags":[1]}]`, `[{"inner":{"X":"yes"}}]`, `[[{"a":{}}], "b", 3]`,
		`[{"n":1e300}]`, `[true, false]`, `["a", 1]`,
	} {
		f.Add([]byte(seed))
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &Server{cfg: Config{}.withDefaults(), log: discard}
	handlers := []Handler{
		Typed(func(ctx context.Context, in fuzzIn) (fuzzIn, error) { return in, nil }),
		Typed(func(ctx context.Context, in *fuzzIn) (bool, error) { return in == nil, nil }),
		Typed(func(ctx context.Context, in []byte) (int, error) { return len(in), nil }),
		Typed(func(ctx context.Context, in map[string]int) (int, error) { return len(in), nil }),
		Typed2(func(ctx context.Context, a string, b int) (string, error) { return a, nil }),
		Typed3(func(ctx context.Context, a, b, c float64) (float64, error) { return a + b + c, nil }),
		Typed0(func(ctx context.Context) (NoReply, error) { return NoReply{}, nil }),
		Typed(func(ctx context.Context, in any) (any, error) { return in, nil }),
	}
	routes := make([]*route, len(handlers))
	for i, h := range handlers {
		routes[i] = &route{event: "e", handler: h, router: &Router{}}
		routes[i].build(nil, nil, binding{validate: StructValidator(), tagsOnly: true})
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var args []any
		if json.Unmarshal(raw, &args) != nil {
			return // the parser only hands over JSON arrays
		}
		for i, rt := range routes {
			w := &Socket{srv: srv, logger: discard, ctx: context.Background()}
			var acks [][]any
			st := &eventState{
				socket: w, route: rt, msg: &Message{Event: "e", Args: args, WantsAck: true},
				ack: func(a []any) { acks = append(acks, a) },
			}
			w.handle(st)
			if len(acks) != 1 || len(acks[0]) != 1 {
				t.Fatalf("handler %d, args %s: want one ack with one envelope, got %v", i, raw, acks)
			}
			env, _ := acks[0][0].(map[string]any)
			switch env["status"] {
			case "ok":
			case "error":
				if code := env["error"].(map[string]any)["code"]; code != string(CodeValidation) {
					t.Fatalf("handler %d, args %s: error code %v, want %s", i, raw, code, CodeValidation)
				}
			default:
				t.Fatalf("handler %d, args %s: not an envelope: %v", i, raw, env)
			}
		}
	})
}
