package fhirproxy

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	up  = "http://127.0.0.1:8091/base"
	pub = "https://gw.example.org/fhir"
)

func TestReplacer(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"none", `{"a":1}`, `{"a":1}`},
		{"fullUrl", `{"fullUrl":"` + up + `/Patient/1"}`, `{"fullUrl":"` + pub + `/Patient/1"}`},
		{"bare base", `"url":"` + up + `"`, `"url":"` + pub + `"`},
		{"at the start and end", up + "/x " + up, pub + "/x " + pub},
		{"adjacent", up + up + "/", up + pub + "/"},
		{"longer port", "http://127.0.0.1:80915/base/x", "http://127.0.0.1:80915/base/x"},
		{"longer path segment", up + "line/x", up + "line/x"},
		{"query", up + "?a=b", pub + "?a=b"},
		{"JSON-escaped: left alone", `"http:\/\/127.0.0.1:8091\/base\/x"`, `"http:\/\/127.0.0.1:8091\/base\/x"`},
		{"partial prefix only", "http://127.0.0.1:8091/bas", "http://127.0.0.1:8091/bas"},
		{"prefix then match", "http://127.0.0.1:8" + up + "/", "http://127.0.0.1:8" + pub + "/"},
	}
	z := newReplacer(up, pub)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, z.String(tt.in))
			// Streamed in pieces of every size, matches split anywhere.
			for _, r := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader, func(r io.Reader) io.Reader { return r }} {
				got, err := io.ReadAll(newReplacingReader(io.NopCloser(r(strings.NewReader(tt.in))), z))
				require.NoError(t, err)
				assert.Equal(t, tt.want, string(got))
			}
		})
	}
}

func TestReplacingReaderStreams(t *testing.T) {
	// What has arrived is returned at once, except a possible partial
	// match at its end.
	pr, pw := io.Pipe()
	r := newReplacingReader(pr, newReplacer(up, pub))
	go func() { _, _ = pw.Write([]byte(`{"fullUrl":"http://127.0`)) }()
	buf := make([]byte, 100)
	n, err := r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, `{"fullUrl":"`, string(buf[:n]))
	go func() {
		_, _ = pw.Write([]byte(`.0.1:8091/base/Patient/1"}`))
		_ = pw.Close()
	}()
	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, pub+`/Patient/1"}`, string(rest))
}

func TestReplacingReaderError(t *testing.T) {
	r := newReplacingReader(io.NopCloser(iotest.TimeoutReader(strings.NewReader("x"+up))), newReplacer(up, pub))
	got, err := io.ReadAll(r)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
	assert.Equal(t, "x"+pub, string(got), "what was read before the error is delivered")
}

// FuzzReplacer checks that streaming in any split gives the one-shot
// result, and that the one-shot result leaves no replaceable occurrence.
func FuzzReplacer(f *testing.F) {
	f.Add([]byte(up+"/Patient/1"), 3)
	f.Add([]byte("http://127.0.0.1:8"+up), 1)
	f.Add([]byte(up+up+up), 7)
	f.Fuzz(func(t *testing.T, in []byte, chunk int) {
		if chunk <= 0 || chunk > 64 {
			chunk = 1
		}
		z := newReplacer(up, pub)
		want := z.String(string(in))
		got, err := io.ReadAll(newReplacingReader(io.NopCloser(&chunkReader{b: in, n: chunk}), z))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("streamed %q, one-shot %q", got, want)
		}
		if !bytes.Contains(in, []byte(up)) && want != string(in) {
			t.Fatalf("rewrote %q without an occurrence", in)
		}
	})
}

type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}

// BenchmarkReplacingReader rewrites a 1 MiB searchset-like body with one
// fullUrl every 300 bytes.
func BenchmarkReplacingReader(b *testing.B) {
	entry := `{"fullUrl":"` + up + `/Observation/obs-1","resource":{"resourceType":"Observation","id":"obs-1","status":"final","subject":{"reference":"Patient/1"},"valueQuantity":{"value":95,"unit":"mg/dL"}}},`
	body := bytes.Repeat([]byte(entry), (1<<20)/len(entry))
	z := newReplacer(up, pub)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := newReplacingReader(io.NopCloser(bytes.NewReader(body)), z)
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
	}
}
