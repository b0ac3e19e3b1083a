package socketservice_test

import (
	"context"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

type login struct {
	Name  string `json:"name" validate:"required"`
	Token string `json:"token"`
}

// typedAuth reads its handshake through AuthAs and Handshake.Token.
type typedAuth struct{}

func (typedAuth) Register(r *socketservice.Router) {
	r.Namespace("/typed-auth")
	r.UseConnect(socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		l, err := socketservice.AuthAs[login](s)
		if err != nil {
			return err
		}
		s.SetIdentity(socketservice.Identity{Subject: l.Name})
		return nil
	}))
	r.Handle("whoami", socketservice.TypedSocket0(func(ctx context.Context, s *socketservice.Socket) (map[string]string, error) {
		id, _ := s.Identity()
		return map[string]string{"name": id.Subject, "token": s.Handshake().Token()}, nil
	}))
}

var _ = Describe("typed handshake access", func() {
	var srv *sockettest.Server
	BeforeEach(func() {
		leakCheck()
		srv = sockettest.NewServer(GinkgoT(), socketservice.AsService(func() typedAuth { return typedAuth{} }))
	})

	It("decodes and validates the auth payload into a struct", func() {
		c, err := srv.Connect(ctxT(), "/typed-auth", sockettest.WithAuth(map[string]any{"name": "ann", "token": "t1"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(okData(call(c, "whoami"))).To(Equal(map[string]any{"name": "ann", "token": "t1"}))

		_, err = srv.Connect(ctxT(), "/typed-auth", sockettest.WithAuth(map[string]any{"name": 5}))
		Expect(err).To(MatchError(&sockettest.ConnectError{
			Message: `auth: field "name": expected string, got number`,
			Data: map[string]any{
				"code":    "VALIDATION_PAYLOAD_ERROR",
				"details": []any{map[string]any{"field": "name", "rule": "type", "message": "expected string, got number"}},
			},
		}))
		_, err = srv.Connect(ctxT(), "/typed-auth")
		Expect(err).To(MatchError(ContainSubstring("connect_error: name is required")))
	})

	It("reads a bearer token from auth.token, else from the Authorization header", func() {
		c, err := srv.Connect(ctxT(), "/typed-auth", sockettest.WithAuth(map[string]any{"name": "bob"}),
			sockettest.WithHeader(http.Header{"Authorization": {"Bearer xyz"}}))
		Expect(err).NotTo(HaveOccurred())
		Expect(okData(call(c, "whoami"))).To(Equal(map[string]any{"name": "bob", "token": "xyz"}))
	})
})
