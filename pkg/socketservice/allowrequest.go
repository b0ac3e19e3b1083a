package socketservice

import (
	"encoding/json"
	"errors"
	"net/http"
)

// AllowRequest decides whether the first HTTP request of a new connection
// may open a session, as Node's allowRequest option does. It runs before
// the engine allocates anything: for a polling handshake and for a
// websocket opened directly, not for the later requests of a session (they
// carry its sid) nor for a polling session's upgrade to websocket.
//
// A nil error lets the request through. Otherwise the client gets an HTTP
// error and the request goes no further: an *Error answers with the status
// of its code (UNAUTHORIZED 401, FORBIDDEN 403, RATE_LIMITED 429,
// SERVICE_UNAVAILABLE 503, INTERNAL_SERVER_ERROR 500, any other 400) and
// its message; RefuseRequest
// chooses the status; any other error answers 403 "Forbidden" and is
// logged. The body is the engine's error shape with the code added:
// {"code":4,"message":"…","data":{"code":"RATE_LIMITED"}}.
//
// The hook may block to delay a request (r.Context() ends if the client
// goes away). Supply it under fx with fx.Supply(socketservice.AllowRequest(fn)).
type AllowRequest func(r *http.Request) error

// WithAllowRequest sets the hook that checks each new connection's first
// HTTP request (see AllowRequest).
func WithAllowRequest(fn AllowRequest) ServerOption {
	return serverOptionFunc(func(s *Server) { s.allowRequest = fn })
}

// RequestRefusal is an AllowRequest refusal with an HTTP status of the
// hook's choice; build it with RefuseRequest.
type RequestRefusal struct {
	Status  int
	Code    Code
	Message string
}

// RefuseRequest returns the error an AllowRequest hook returns to answer
// with status and message; code, when not empty, is the body's data.code.
func RefuseRequest(status int, code Code, message string) *RequestRefusal {
	return &RequestRefusal{Status: status, Code: code, Message: message}
}

func (e *RequestRefusal) Error() string {
	return "socketservice: request refused (" + http.StatusText(e.Status) + "): " + e.Message
}

// engineForbidden is engine.io's error code for a refused request.
const engineForbidden = 4

// allow runs the AllowRequest hook on r and answers a refusal; it reports
// whether the engine should serve r.
func (s *Server) allow(w http.ResponseWriter, r *http.Request) bool {
	if s.allowRequest == nil || r.URL.Query().Get("sid") != "" {
		return true
	}
	err := s.allowRequest(r)
	if err == nil {
		return true
	}
	status, code, message := http.StatusForbidden, Code(""), "Forbidden"
	var refusal *RequestRefusal
	var se *Error
	switch {
	case errors.As(err, &refusal):
		status, code, message = refusal.Status, refusal.Code, refusal.Message
	case errors.As(err, &se):
		status, code, message = statusOf(se.Code()), se.Code(), se.Message()
	default:
		s.log.Warn("socketservice: request refused by AllowRequest", "remote", r.RemoteAddr, "error", err)
	}
	s.log.Debug("socketservice: request refused", "remote", r.RemoteAddr, "status", status, "code", code, "message", message)
	writeEngineRefusal(w, status, message, code)
	return false
}

// writeEngineRefusal answers a request the engine does not see, as the
// engine answers one it refuses: {"code", "message", "data": {"code"}}.
func writeEngineRefusal(w http.ResponseWriter, status int, message string, code Code) {
	body := map[string]any{"code": engineForbidden, "message": message}
	if code != "" {
		body["data"] = map[string]any{"code": string(code)}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// statusOf maps an error code to an HTTP status.
func statusOf(c Code) int {
	switch c {
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
