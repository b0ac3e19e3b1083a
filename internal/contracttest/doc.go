// Package contracttest checks generated contracts with the real tools, for
// the specs of pkg/contract and of the demo: AsyncAPI documents against the
// AsyncAPI 3.0.0 JSON Schema of the pinned @asyncapi/specs npm package, and
// TypeScript declarations with the pinned tsc, in strict mode, together
// with client code that uses them.
package contracttest
