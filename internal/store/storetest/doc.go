// Package storetest is the conformance suite every store.Store backend
// runs: Run(t, open) exercises each method of the contract in named
// subtests, against a fresh store per subtest. A backend's test is a few
// lines calling Run.
package storetest
