package middleware

import "context"

type launchContextKey struct{}

// NewContext returns a copy of ctx carrying lc. Authenticate calls it; tests
// of handlers may call it directly.
func NewContext(ctx context.Context, lc *LaunchContext) context.Context {
	return context.WithValue(ctx, launchContextKey{}, lc)
}

// LaunchContextFrom returns the LaunchContext stored in ctx by Authenticate,
// and whether there was one (false for an unauthenticated request let
// through in optional mode).
func LaunchContextFrom(ctx context.Context) (*LaunchContext, bool) {
	lc, ok := ctx.Value(launchContextKey{}).(*LaunchContext)
	return lc, ok && lc != nil
}
