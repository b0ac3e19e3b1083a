// Package contract makes the wire contract of socketfx services from the
// handlers themselves: what each namespace's clients may send (arguments
// and acks, with the error codes of the envelope), what the server sends
// them (declared with socketservice.Event and the emit options), and the
// Go types of both, as
//
//   - an AsyncAPI 3.0 document (Contract.AsyncAPI),
//   - TypeScript declarations for socket.io-client 4: per namespace the
//     ServerToClientEvents and ClientToServerEvents interfaces of
//     io<ServerToClientEvents, ClientToServerEvents>(url)
//     (Contract.TypeScript),
//   - one JSON Schema document for other languages (Contract.JSONSchema).
//
// Build a contract from a server (FromServer) or from services
// (socketservice.Describe, then New). Serve it (Handler), write it from a
// command (Command, for a go:generate program or a subcommand of the app
// that builds its fx graph without starting it), or enforce it in tests
// (Checker; sockettest.WithContract).
//
// Schemas follow encoding/json, as the server does: json tags name the
// properties; a field is required unless it is omitempty (or omitzero, or
// validate:"omitempty"); pointers, slices and maps admit null; time.Time is
// a date-time string; a []byte argument or payload is a binary attachment
// and a []byte field a base64 string. The go-playground/validator rules of
// the default input validator become JSON Schema keywords (min, max, len,
// gt, lt, oneof as enum, email, url, uuid, …); rules it cannot express are
// left to the server, which checks them all. A doc:"…" tag describes a
// field.
package contract
