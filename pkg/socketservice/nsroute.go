package socketservice

import (
	"fmt"
	"regexp"
	"strings"
)

// paramName is a route parameter's name: a Go identifier.
var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// defaultParamPattern is what a route parameter matches without an
// expression: one segment.
const defaultParamPattern = `[^/]+`

// compileRoute turns a route-style namespace such as "/tenant/{id}" or
// "/org/{org}/team/{team:[0-9]+}" into an anchored regular expression whose
// named groups are the parameters. A parameter matches one path segment
// (no "/") unless it gives its own expression after a colon.
func compileRoute(route string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	rest := route
	seen := map[string]bool{}
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if err := literal(route, rest); err != nil {
				return nil, err
			}
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		if err := literal(route, rest[:open]); err != nil {
			return nil, err
		}
		b.WriteString(regexp.QuoteMeta(rest[:open]))
		end := closingBrace(rest, open)
		if end < 0 {
			return nil, fmt.Errorf("namespace %q: unclosed { in a route parameter", route)
		}
		name, expr, custom := strings.Cut(rest[open+1:end], ":")
		if !paramName.MatchString(name) {
			return nil, fmt.Errorf("namespace %q: route parameter {%s} needs a name made of letters, digits and _", route, rest[open+1:end])
		}
		if seen[name] {
			return nil, fmt.Errorf("namespace %q: route parameter {%s} appears twice", route, name)
		}
		seen[name] = true
		if !custom {
			expr = defaultParamPattern
		}
		if _, err := regexp.Compile(expr); err != nil {
			return nil, fmt.Errorf("namespace %q: route parameter {%s}: %w", route, name, err)
		}
		fmt.Fprintf(&b, "(?P<%s>%s)", name, expr)
		rest = rest[end+1:]
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// literal refuses the other route syntax (":id") and stray braces in the
// fixed parts of a route.
func literal(route, s string) error {
	for _, seg := range strings.Split(s, "/") {
		if strings.HasPrefix(seg, ":") && len(seg) > 1 {
			return fmt.Errorf("namespace %q: route parameters are written {%s}, not %s", route, seg[1:], seg)
		}
	}
	if strings.ContainsRune(s, '}') {
		return fmt.Errorf("namespace %q: } without {", route)
	}
	return nil
}

// closingBrace finds the } that closes the { at open, allowing braces in a
// parameter's expression ("{id:[0-9]{3}}").
func closingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// anchor makes a user's namespace pattern match whole names only.
func anchor(expr string) string { return `^(?:` + expr + `)$` }

// params returns the named parameters of name under the service's pattern.
func (d *serviceDef) params(name string) map[string]string {
	if d == nil || d.pattern == nil {
		return nil
	}
	m := d.pattern.FindStringSubmatch(name)
	if m == nil {
		return nil
	}
	var out map[string]string
	for i, n := range d.pattern.SubexpNames() {
		if n == "" || i >= len(m) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[n] = m[i]
	}
	return out
}
