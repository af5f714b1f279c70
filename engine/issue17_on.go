//go:build features17

package engine

// issue17Features: see issue17_off.go. `go test -tags features17` checks the
// pack against the merged features before the guard is removed.
const issue17Features = true
