package middleware

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// JSONSchema validates an event's first argument, as the client sent it,
// against a JSON Schema (draft 2020-12 and earlier, with
// github.com/santhosh-tekuri/jsonschema/v6), for users coming from Foal's
// @ValidatePayload. A failure is a VALIDATION_PAYLOAD_ERROR whose details
// name each failing location ("field" as a dotted path, "rule" the schema
// keyword). A schema that does not compile is an error here, at
// registration, never at run time.
func JSONSchema(schema string) (socketservice.Middleware, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("middleware: JSON schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///schema.json", doc); err != nil {
		return nil, fmt.Errorf("middleware: JSON schema: %w", err)
	}
	sch, err := c.Compile("mem:///schema.json")
	if err != nil {
		return nil, fmt.Errorf("middleware: JSON schema: %w", err)
	}
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			var arg any
			if len(m.Args) > 0 {
				arg = m.Args[0]
			}
			if err := sch.Validate(arg); err != nil {
				return nil, schemaError(err)
			}
			return next(ctx, m)
		}
	}, nil
}

func schemaError(err error) error {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return socketservice.NewError(socketservice.CodeValidation, "payload does not match the schema").WithCause(err)
	}
	var details []socketservice.Detail
	for _, u := range verr.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		kw := u.KeywordLocation[strings.LastIndexByte(u.KeywordLocation, '/')+1:]
		field := strings.ReplaceAll(strings.TrimPrefix(u.InstanceLocation, "/"), "/", ".")
		details = append(details, socketservice.Detail{Field: field, Rule: kw, Message: u.Error.String()})
	}
	msg := "payload does not match the schema"
	if len(details) == 1 {
		msg = details[0].Message
		if details[0].Field != "" {
			msg = details[0].Field + ": " + msg
		}
	}
	return socketservice.NewError(socketservice.CodeValidation, msg).WithDetails(details...)
}
