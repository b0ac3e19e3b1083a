// Package decode turns the loosely typed values the Socket.IO parser produces
// (map[string]any, []any, float64, string, bool, nil and binary buffers) into
// the Go types a typed handler declares.
//
// A value that already has the wanted type is passed through untouched, so a
// middleware that replaced an argument with a typed value costs nothing.
// Everything else goes through encoding/json, which gives users the rules
// they know (struct tags, omitempty, custom UnmarshalJSON). Binary buffers
// become []byte; inside a struct they decode into []byte fields.
package decode
