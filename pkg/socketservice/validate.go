package socketservice

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
)

// StructValidator validates handler inputs by their `validate` struct tags
// with go-playground/validator, the Go norm (github.com/go-playground/validator/v10).
// It is the server's InputValidator unless another is supplied, so tags
// are never silently ignored.
// A failure is a VALIDATION_PAYLOAD_ERROR listing every field:
//
//	{"code":"VALIDATION_PAYLOAD_ERROR","message":"2 fields are invalid",
//	 "details":[{"field":"text","rule":"required","message":"text is required"}, …]}
//
// Fields are named as the client sends them (their json names).
func StructValidator() InputValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name := strings.SplitN(f.Tag.Get("json"), ",", 2)[0]
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	return func(in any) error {
		rv := reflect.ValueOf(in)
		for rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return nil
			}
			rv = rv.Elem()
		}
		if rv.Kind() != reflect.Struct {
			return nil
		}
		err := v.Struct(in)
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			return err
		}
		details := make([]Detail, len(verrs))
		for i, fe := range verrs {
			details[i] = Detail{Field: fieldPath(fe), Rule: fe.Tag(), Message: fieldMessage(fe)}
		}
		msg := details[0].Message
		if len(details) > 1 {
			msg = strconv.Itoa(len(details)) + " fields are invalid"
		}
		return NewError(CodeValidation, msg).WithDetails(details...)
	}
}

// fieldPath is the field's JSON path without the top-level type name.
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if i := strings.IndexByte(ns, '.'); i >= 0 {
		return ns[i+1:]
	}
	return ns
}

func fieldMessage(fe validator.FieldError) string {
	f := fieldPath(fe)
	switch fe.Tag() {
	case "required":
		return f + " is required"
	case "min":
		return f + " must be at least " + fe.Param()
	case "max":
		return f + " must be at most " + fe.Param()
	case "len":
		return f + " must have length " + fe.Param()
	case "oneof":
		return f + " must be one of: " + fe.Param()
	case "email":
		return f + " must be an email address"
	}
	if fe.Param() != "" {
		return f + " fails " + fe.Tag() + "=" + fe.Param()
	}
	return f + " fails " + fe.Tag()
}

// hasValidateTags reports whether a value of type t can carry a `validate`
// struct tag anywhere (in its fields, nested structs, or the elements of
// its slices, arrays and maps): StructValidator has nothing to check
// otherwise. Types that implement Validator are checked by their method
// whatever this says.
func hasValidateTags(t reflect.Type) bool { return tagged(t, map[reflect.Type]bool{}) }

func tagged(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if _, ok := f.Tag.Lookup("validate"); ok || tagged(f.Type, seen) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		return tagged(t.Elem(), seen)
	case reflect.Map:
		return tagged(t.Key(), seen) || tagged(t.Elem(), seen)
	case reflect.Interface:
		return true // what it holds is known only at run time
	}
	return false
}
