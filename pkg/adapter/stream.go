package adapter

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/internal/engine/cluster"
	"github.com/socketfx/socketfx/internal/engine/recovery"
	"github.com/vmihailenco/msgpack/v5"
)

// streamLog keeps a namespace's recent broadcasts in a Redis stream: the
// entry id is the packet's offset, the same on every node.
type streamLog struct {
	r   *Redis
	key string
}

type streamEntry struct {
	Data   any      `msgpack:"data"`
	Rooms  []string `msgpack:"rooms,omitempty"`
	Except []string `msgpack:"except,omitempty"`
}

// maxReplay bounds the entries read for one recovery.
const maxReplay = 100_000

func (l *streamLog) Append(ctx context.Context, data []any, rooms, except []string) (string, error) {
	w, err := cluster.ToWire(data)
	if err != nil {
		return "", err
	}
	b, err := msgpack.Marshal(streamEntry{Data: w, Rooms: rooms, Except: except})
	if err != nil {
		return "", err
	}
	return l.r.client.XAdd(ctx, &redis.XAddArgs{
		Stream: l.key, MaxLen: l.r.cfg.StreamMaxLen, Approx: true, Values: []any{"d", b},
	}).Result()
}

func (l *streamLog) After(ctx context.Context, offset string, since time.Time) ([]recovery.Entry, bool, error) {
	start := strconv.FormatInt(since.UnixMilli(), 10)
	if offset != recovery.NoOffset {
		found, err := l.r.client.XRange(ctx, l.key, offset, offset).Result()
		if err != nil {
			return nil, false, fmt.Errorf("adapter: read stream: %w", err)
		}
		if len(found) == 0 {
			return nil, false, nil // trimmed away, or not an offset of ours
		}
		start = "(" + offset
	}
	msgs, err := l.r.client.XRangeN(ctx, l.key, start, "+", maxReplay).Result()
	if err != nil {
		return nil, false, fmt.Errorf("adapter: read stream: %w", err)
	}
	out := make([]recovery.Entry, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["d"].(string)
		var e streamEntry
		if err := msgpack.Unmarshal([]byte(raw), &e); err != nil {
			continue
		}
		data, _ := e.Data.([]any)
		out = append(out, recovery.Entry{
			Offset: m.ID, Data: append(data, m.ID), Rooms: e.Rooms, Except: e.Except,
		})
	}
	return out, true, nil
}
