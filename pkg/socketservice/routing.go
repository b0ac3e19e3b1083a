package socketservice

import (
	"errors"
	"fmt"
	"strings"

	"github.com/socketfx/socketfx/internal/engine"
)

// register builds every service's routes and checks for conflicts.
func (s *Server) register() error {
	var errs []error
	s.static = map[string]*serviceDef{}
	seenPattern := map[string]*serviceDef{}
	for _, svc := range s.services {
		if svc == nil {
			errs = append(errs, errors.New("socketservice: nil service"))
			continue
		}
		def := newServiceDef(svc)
		if err := def.err(); err != nil {
			errs = append(errs, err)
			continue
		}
		// What the contract reads must hold together too: an event
		// declared with Emits and sent by an emit option with another
		// type, an emit option with a reserved name.
		if _, err := def.description(); err != nil {
			errs = append(errs, err)
			continue
		}
		s.defs = append(s.defs, def)
		if def.pattern != nil {
			if other, dup := seenPattern[def.patternSrc]; dup {
				errs = append(errs, fmt.Errorf("socketservice: services %s and %s both serve namespace %s", other.owner, def.owner, def.describe()))
				continue
			}
			seenPattern[def.patternSrc] = def
			s.patterns = append(s.patterns, def)
		} else {
			if other, dup := s.static[def.name]; dup {
				errs = append(errs, fmt.Errorf("socketservice: services %s and %s both serve namespace %s", other.owner, def.owner, def.name))
				continue
			}
			s.static[def.name] = def
		}
		for _, rt := range def.routes {
			rt.build(s.global, s.globalAfter, s.binding())
		}
	}
	return errors.Join(errs...)
}

// serviceFor finds the service of a namespace name.
func (s *Server) serviceFor(name string) *serviceDef {
	if def, ok := s.static[name]; ok {
		return def
	}
	for _, def := range s.patterns {
		if def.pattern.MatchString(name) {
			return def
		}
	}
	return nil
}

// Of returns a handle on the namespace name (a fixed name, or a concrete
// name that matches a service's pattern). The handle can be taken at any
// time; its operations fail with ErrNotRunning outside Start…Stop and with
// ErrUnknownNamespace for a name no service serves.
func (s *Server) Of(name string) Namespace {
	return Namespace{srv: s, name: "/" + strings.TrimPrefix(name, "/")}
}

// broadcaster resolves a namespace name for an operation of a handle.
func (s *Server) broadcaster(name string) (engine.Broadcaster, error) {
	s.mu.RLock()
	d, st := s.driver, s.state
	s.mu.RUnlock()
	if d == nil || st < stateRunning || st > stateStopping {
		return nil, ErrNotRunning
	}
	if name == "/" || s.serviceFor(name) != nil {
		return d, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownNamespace, name)
}
