// Package docscheck holds the test that keeps the documentation honest: a
// Go snippet in README.md or docs/ that names its source file must be a
// verbatim excerpt of that file, so that every such snippet is compiled and
// tested code.
package docscheck
