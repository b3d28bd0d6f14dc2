package leaksuite

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// streamHeader marks the requests whose response must be streamed.
const streamHeader = "X-Leaksuite-Stream"

// streamWait bounds how long the upstream waits for its first bytes to
// reach the client. It only passes in the safe direction: a stack that
// streams delivers them at once; one that buffers never does, and the
// case fails when the wait ends.
const streamWait = 20 * time.Second

// streamProbe tells whether a response reaches the client while the FHIR
// server is still writing it: the upstream, after writing and flushing its
// first bytes, waits until the client's recorder has received some bytes
// before it writes the rest.
type streamProbe struct {
	wait    time.Duration
	arrived chan struct{} // closed at the recorder's first body write
	once    sync.Once
	mu      sync.Mutex
	failure error
}

func newStreamProbe(wait time.Duration) *streamProbe {
	return &streamProbe{wait: wait, arrived: make(chan struct{})}
}

func (p *streamProbe) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failure == nil {
		p.failure = err
	}
}

func (p *streamProbe) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failure
}

// wrap is Env.Upstream: for marked requests, the handler's first write is
// flushed and then held until it reached the client.
func (p *streamProbe) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(streamHeader) == "" {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(&gatedWriter{ResponseWriter: w, probe: p}, r)
	})
}

// gatedWriter is the upstream's ResponseWriter for a marked request.
type gatedWriter struct {
	http.ResponseWriter
	probe *streamProbe
	wrote bool
}

func (g *gatedWriter) Write(b []byte) (int, error) {
	if g.wrote || len(b) == 0 {
		return g.ResponseWriter.Write(b)
	}
	g.wrote = true
	// Write the first half, flush it, and wait for it to arrive.
	half := len(b) / 2
	if half == 0 {
		half = len(b)
	}
	n, err := g.ResponseWriter.Write(b[:half])
	if err != nil {
		return n, err
	}
	if err := http.NewResponseController(g.ResponseWriter).Flush(); err != nil {
		g.probe.fail(fmt.Errorf("the FHIR server cannot flush its response (the writer it got was replaced by a buffering one?): %w", err))
	} else {
		select {
		case <-g.probe.arrived:
		case <-time.After(g.probe.wait):
			g.probe.fail(errors.New("the first bytes of the response did not reach the client while the FHIR server was writing it: the response was buffered"))
		}
	}
	m, err := g.ResponseWriter.Write(b[half:])
	return n + m, err
}

func (g *gatedWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// recorder returns the client-side ResponseRecorder of the probe.
func (p *streamProbe) recorder() *probeRecorder {
	return &probeRecorder{ResponseRecorder: httptest.NewRecorder(), probe: p}
}

// probeRecorder is an httptest.ResponseRecorder that signals its first
// body bytes to the probe.
type probeRecorder struct {
	*httptest.ResponseRecorder
	probe *streamProbe
}

func (r *probeRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseRecorder.Write(b)
	if n > 0 {
		r.probe.once.Do(func() { close(r.probe.arrived) })
	}
	return n, err
}

func (r *probeRecorder) WriteString(s string) (int, error) { return r.Write([]byte(s)) }
