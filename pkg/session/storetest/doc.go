// Package storetest holds the conformance specs every session.Store must
// pass (Ginkgo). socketfx runs them against the memory and Redis stores;
// run them against your own store too:
//
//	var _ = Describe("my store", func() {
//		storetest.Specs(func() session.Store { return mystore.New(…) })
//	})
package storetest
