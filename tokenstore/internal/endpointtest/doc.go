// Package endpointtest tests the tokenstore implementations (memory, Redis,
// PostgreSQL) through the token endpoint, authserver.TokenHandler: a store
// failure must be answered with server_error, never invalid_grant, and must
// leave the presented refresh token usable exactly once afterwards. Its
// benchmarks compare the stores by refreshes per second through the
// handler.
//
// The package holds tests only. It is the one place under tokenstore that
// imports middleware, and nothing imports it.
//
// Usage sketch:
//
//	go test ./tokenstore/internal/endpointtest/
//	go test -run '^$' -bench HandlerRefreshParallel ./tokenstore/internal/endpointtest/
package endpointtest
