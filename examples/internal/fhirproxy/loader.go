package fhirproxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/smartauth/smartauth/middleware"
)

// maxResource caps a resource the loader reads.
const maxResource = middleware.DefaultMaxBodySize

// upstreamLoader is the middleware.ResourceLoader of the gateway: it reads
// the current version of a resource from the upstream (GET [upstream]/[type]/[id]),
// with the caller's context and without its token.
type upstreamLoader struct {
	base    *url.URL
	client  *http.Client
	rewrite replacer
}

func (l *upstreamLoader) LoadResource(ctx context.Context, typ, id string) ([]byte, error) {
	u := l.base.JoinPath(typ, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fhirproxy: load %s/%s: %w", typ, id, err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fhirproxy: load %s/%s: %w", typ, id, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("fhirproxy: load %s/%s: %w", typ, id, middleware.ErrResourceNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fhirproxy: load %s/%s: upstream answered %s", typ, id, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResource+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("fhirproxy: load %s/%s: %w", typ, id, err)
	case len(b) > maxResource:
		return nil, fmt.Errorf("fhirproxy: load %s/%s: larger than %d bytes", typ, id, maxResource)
	}
	// The middleware checks references against the public base URL.
	out, _ := l.rewrite.process(nil, b, true)
	return out, nil
}
