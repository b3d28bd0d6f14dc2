// Package testenv holds what the tests of the Redis and PostgreSQL stores
// share: finding the test servers (and skipping, or failing when
// SMARTAUTH_REQUIRE_SERVICES=1, if they do not answer), unique names so that
// test runs never collide, Proxy, a TCP proxy that simulates a store server
// going away without touching the real, shared server, and PostgresServer,
// a throwaway PostgreSQL cluster that a test can pause, stop and restart.
//
// It is imported by tests only.
//
// Usage sketch, in a store's _test.go file:
//
//	c := testenv.RedisClient(t, nil)     // skips (or fails) if Redis is down
//	prefix := testenv.RedisPrefix(t, c)  // keys deleted when the test ends
//	pool := testenv.PostgresPool(t, nil) // same for PostgreSQL
//	schema := testenv.PostgresSchema(t, pool)
//	proxy := testenv.StartProxy(t, "127.0.0.1:6379")
//	proxy.Down() // the server is "down" for the clients of the proxy
//	url, srv := testenv.StartPostgres(t) // a server of the test's own
//	srv.Pause()                          // it hangs; srv.Resume(), Stop(), Start()
package testenv
