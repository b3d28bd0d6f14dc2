package middleware

import (
	"context"
	"errors"
)

// ErrResourceNotFound is what a ResourceLoader returns (or wraps) for a
// resource that does not exist.
var ErrResourceNotFound = errors.New("smartauth: resource not found")

// ResourceLoader reads the current version of a resource, as FHIR JSON.
// RequireFHIRScopes uses it to check that an update, patch or delete under
// a restricted authorization changes a resource the granted scopes permit
// (see WithResourceLoader). It must return ErrResourceNotFound (or an error
// wrapping it) for a resource that does not exist; any other error refuses
// the request with 503.
type ResourceLoader interface {
	LoadResource(ctx context.Context, resourceType, id string) ([]byte, error)
}

// ResourceLoaderFunc adapts a function to ResourceLoader.
type ResourceLoaderFunc func(ctx context.Context, resourceType, id string) ([]byte, error)

// LoadResource calls f.
func (f ResourceLoaderFunc) LoadResource(ctx context.Context, resourceType, id string) ([]byte, error) {
	return f(ctx, resourceType, id)
}
