package middleware

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// JWTConfig configures JWTAuth.
type JWTConfig struct {
	// Secret verifies HMAC-signed tokens (HS256/384/512).
	Secret []byte
	// Keyfunc, when set, finds the verification key instead of Secret (for
	// RSA or ECDSA keys, key rotation…).
	Keyfunc jwt.Keyfunc
	// Methods are the accepted signing algorithms. Default: HS256.
	Methods []string
	// RolesClaim names the claim holding the roles (a list of strings).
	// Default "roles".
	RolesClaim string
	// NameClaim names the claim holding the display name. Default "name".
	NameClaim string
}

// JWTAuth is connection middleware that authenticates a socket with a bearer
// token (github.com/golang-jwt/jwt/v5): from the handshake's auth payload
// ({token: "…"}), else from an "Authorization: Bearer …" header. The token
// must be signed with an accepted method and carry an expiry in the future.
// On success the socket's Identity holds the subject, name, roles and
// claims; otherwise the connection is refused with UNAUTHORIZED (the client
// learns "missing token", "token expired" or "invalid token", nothing more).
func JWTAuth(cfg JWTConfig) socketservice.ConnectMiddleware {
	verify := TokenVerifier(cfg)
	return socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		raw := s.Handshake().Token()
		if raw == "" {
			return socketservice.NewError(socketservice.CodeUnauthorized, "missing token")
		}
		id, err := verify(raw)
		if err != nil {
			return err
		}
		s.SetIdentity(id)
		return nil
	})
}

// TokenVerifier returns the check JWTAuth makes of a token, for HTTP
// handlers that take the same tokens (an "Authorization: Bearer" header on
// an admin API). Its errors are *socketservice.Error with CodeUnauthorized
// and the message "invalid token" or "token expired", the cause wrapped.
func TokenVerifier(cfg JWTConfig) func(raw string) (socketservice.Identity, error) {
	methods := cfg.Methods
	if len(methods) == 0 {
		methods = []string{"HS256"}
	}
	rolesClaim, nameClaim := cfg.RolesClaim, cfg.NameClaim
	if rolesClaim == "" {
		rolesClaim = "roles"
	}
	if nameClaim == "" {
		nameClaim = "name"
	}
	keyfunc := cfg.Keyfunc
	if keyfunc == nil {
		keyfunc = func(*jwt.Token) (any, error) { return cfg.Secret, nil }
	}
	parser := jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithExpirationRequired())
	return func(raw string) (socketservice.Identity, error) {
		claims := jwt.MapClaims{}
		if _, err := parser.ParseWithClaims(raw, claims, keyfunc); err != nil {
			msg := "invalid token"
			if errors.Is(err, jwt.ErrTokenExpired) {
				msg = "token expired"
			}
			return socketservice.Identity{}, socketservice.NewError(socketservice.CodeUnauthorized, msg).WithCause(err)
		}
		sub, _ := claims.GetSubject()
		id := socketservice.Identity{Subject: sub, Claims: claims}
		id.Name, _ = claims[nameClaim].(string)
		if list, ok := claims[rolesClaim].([]any); ok {
			for _, r := range list {
				if role, ok := r.(string); ok {
					id.Roles = append(id.Roles, role)
				}
			}
		}
		return id, nil
	}
}

// IssueToken signs an HS256 token for id that expires after ttl, with the
// claims JWTAuth reads by default (sub, name, roles, exp, iat) and a random
// id (jti, for RevokeToken). Meant for
// demos and tests; production tokens usually come from an identity provider.
func IssueToken(secret []byte, id socketservice.Identity, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"sub":   id.Subject,
		"name":  id.Name,
		"roles": id.Roles,
		"iat":   now.Unix(),
		"exp":   now.Add(ttl).Unix(),
		"jti":   rand.Text(),
	}
	t, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("middleware: sign token: %w", err)
	}
	return t, nil
}
