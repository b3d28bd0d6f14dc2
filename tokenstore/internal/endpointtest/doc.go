// Package endpointtest tests the tokenstore implementations (memory, Redis,
// PostgreSQL) through the token endpoint, authserver.TokenHandler:
//
//   - two instances sharing a store, their clocks skewed, given one refresh
//     token by many concurrent requests: without a retry window exactly one
//     is answered 200; with one, the family never forks nor is revoked;
//   - a store that fails, or stops answering (a server of the test's own
//     paused with SIGSTOP), is answered 503 temporarily_unavailable within
//     the deadline, never invalid_grant, and the client's retry with the
//     same refresh token succeeds once the store is back;
//   - a lost reply to the replay guard (a client assertion's jti) is
//     answered 200 or 5xx, never invalid_client;
//   - a client assertion (SMART Backend Services, client_credentials) is
//     single use across two instances sharing a store: replayed at either
//     one, or presented by many requests at once, it gets exactly one 200
//     and otherwise 401 invalid_client.
//
// Its benchmarks compare the stores by refreshes per second through the
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
