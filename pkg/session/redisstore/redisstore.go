package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/socketfx/socketfx/pkg/session"
)

// Store is a session.Store in Redis.
type Store struct {
	client    redis.UniversalClient
	prefix    string
	deadlines string
}

// Option configures New: WithPrefix.
type Option interface{ applyStore(*Store) }

type optionFunc func(*Store)

func (f optionFunc) applyStore(s *Store) { f(s) }

// WithPrefix sets the prefix of the store's keys (default "socketfx:session").
func WithPrefix(p string) Option { return optionFunc(func(s *Store) { s.prefix = p }) }

// New returns a store on client (which the store does not close).
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, prefix: "socketfx:session"}
	for _, o := range opts {
		o.applyStore(s)
	}
	s.deadlines = s.prefix + ":deadlines"
	return s
}

func (s *Store) key(id string) string { return s.prefix + ":" + id }

// grace keeps a record's key a while past its deadline, so that Expired
// can still read it.
const grace = time.Minute

// Save implements session.Store.
func (s *Store) Save(ctx context.Context, rec session.Record, ttl time.Duration) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("redisstore: encode session: %w", err)
	}
	deadline := time.Now().Add(ttl)
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.key(rec.ID), b, ttl+grace)
		p.ZAdd(ctx, s.deadlines, redis.Z{Score: float64(deadline.UnixMilli()), Member: rec.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: save session: %w", err)
	}
	return nil
}

// take removes a record whose deadline has not passed (ARGV[2] = 1) or has
// (ARGV[2] = 0), and returns it; nil when another caller was first.
var take = redis.NewScript(`
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score then return false end
local due = tonumber(score) <= tonumber(ARGV[3])
if (ARGV[2] == '1' and due) or (ARGV[2] == '0' and not due) then return false end
redis.call('ZREM', KEYS[2], ARGV[1])
local v = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
return v
`)

// Take implements session.Store.
func (s *Store) Take(ctx context.Context, id string) (session.Record, bool, error) {
	return s.take(ctx, id, true, time.Now())
}

func (s *Store) take(ctx context.Context, id string, live bool, now time.Time) (session.Record, bool, error) {
	flag := "0"
	if live {
		flag = "1"
	}
	v, err := take.Run(ctx, s.client, []string{s.key(id), s.deadlines}, id, flag, now.UnixMilli()).Text()
	if errors.Is(err, redis.Nil) {
		return session.Record{}, false, nil
	}
	if err != nil {
		return session.Record{}, false, fmt.Errorf("redisstore: take session: %w", err)
	}
	var rec session.Record
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return session.Record{}, false, fmt.Errorf("redisstore: decode session: %w", err)
	}
	return rec, true, nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.key(id))
		p.ZRem(ctx, s.deadlines, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: delete session: %w", err)
	}
	return nil
}

// Expired implements session.Store: it claims each due record with the
// same script as Take, so each is returned by one caller only.
func (s *Store) Expired(ctx context.Context, now time.Time) ([]session.Record, error) {
	ids, err := s.client.ZRangeByScore(ctx, s.deadlines, &redis.ZRangeBy{Min: "-inf", Max: fmt.Sprint(now.UnixMilli()), Count: 1000}).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list expired sessions: %w", err)
	}
	var out []session.Record
	for _, id := range ids {
		rec, ok, err := s.take(ctx, id, false, now)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

// Shared implements session.Store: true, every node sees the records.
func (s *Store) Shared() bool { return true }

var _ session.Store = (*Store)(nil)
