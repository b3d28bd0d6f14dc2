package leaksuite

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The probe must tell a streaming stack from a buffering one.
func TestStreamProbe(t *testing.T) {
	body := []byte(`{"resourceType":"Patient","id":"1"}`)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	buffering := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(struct{ http.ResponseWriter }{rec}, r) // hides Flush, as a buffering middleware would
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
	bufferingFlusher := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder() // can flush, but holds everything until the end
			h.ServeHTTP(rec, r)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
	tests := []struct {
		name    string
		stack   func(http.Handler) http.Handler
		wantErr string
	}{
		{"streaming", func(h http.Handler) http.Handler { return h }, ""},
		{"writer without Flush", buffering, "cannot flush"},
		{"buffered until the end", bufferingFlusher, "was buffered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newStreamProbe(50 * time.Millisecond) // only the failing stacks wait
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set(streamHeader, "1")
			rec := p.recorder()
			tt.stack(p.wrap(upstream)).ServeHTTP(rec, req)
			assert.True(t, bytes.Equal(body, rec.Body.Bytes()), "body %q", rec.Body)
			if tt.wantErr == "" {
				require.NoError(t, p.err())
				return
			}
			require.Error(t, p.err())
			assert.Contains(t, p.err().Error(), tt.wantErr)
		})
	}
}
