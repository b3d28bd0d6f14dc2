package fhirproxy

import (
	"bytes"
	"io"
	"strings"
)

// replacer rewrites a URL prefix: old is replaced by new wherever it is
// not followed by a character that would continue a host or port (so that
// "http://h:80" does not rewrite "http://h:8080"). Occurrences escaped in
// another way (JSON "http:\/\/h", percent-encoding) are left alone.
type replacer struct {
	old, new []byte
}

func newReplacer(old, new string) replacer { return replacer{old: []byte(old), new: []byte(new)} }

// continuesURL reports whether c, after a match, would make it a prefix of
// another authority or path segment rather than the base itself.
func continuesURL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == ':' || c == '@' || c == '%' || c == '~'
}

// String rewrites s (a header value).
func (z replacer) String(s string) string {
	if len(z.old) == 0 || !strings.Contains(s, string(z.old)) {
		return s
	}
	out, _ := z.process(nil, []byte(s), true)
	return string(out)
}

// process appends to dst the rewrite of src and returns the bytes of src
// it kept back: a tail that may be the start of an occurrence (or an
// occurrence whose next byte is not known yet). With final, nothing is
// kept back.
func (z replacer) process(dst, src []byte, final bool) (out, rest []byte) {
	for {
		i := bytes.Index(src, z.old)
		if i < 0 {
			break
		}
		end := i + len(z.old)
		if end == len(src) && !final {
			dst = append(dst, src[:i]...)
			return dst, src[i:]
		}
		dst = append(dst, src[:i]...)
		if end < len(src) && continuesURL(src[end]) {
			dst = append(dst, z.old...)
		} else {
			dst = append(dst, z.new...)
		}
		src = src[end:]
	}
	keep := 0
	if !final {
		keep = partialMatch(src, z.old)
	}
	return append(dst, src[:len(src)-keep]...), src[len(src)-keep:]
}

// partialMatch returns the length of the longest suffix of src that is a
// proper prefix of old.
func partialMatch(src, old []byte) int {
	for n := min(len(src), len(old)-1); n > 0; n-- {
		if bytes.Equal(src[len(src)-n:], old[:n]) {
			return n
		}
	}
	return 0
}

// replacingReader rewrites a stream as it is read, holding back at most
// len(old) bytes: a partial occurrence at the end of what has arrived.
type replacingReader struct {
	z       replacer
	src     io.ReadCloser
	pending []byte // read, not yet rewritten
	out     []byte // rewritten, not yet returned
	outBuf  []byte // the whole buffer out is a part of, reused
	chunk   []byte
	err     error
}

func newReplacingReader(src io.ReadCloser, z replacer) *replacingReader {
	return &replacingReader{z: z, src: src, chunk: make([]byte, 32<<10)}
}

func (r *replacingReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			if len(r.pending) > 0 {
				r.out, _ = r.z.process(r.outBuf[:0], r.pending, true)
				r.outBuf, r.pending = r.out, nil
				continue
			}
			return 0, r.err
		}
		n, err := r.src.Read(r.chunk)
		r.err = err
		if n == 0 {
			continue
		}
		r.pending = append(r.pending, r.chunk[:n]...)
		var rest []byte
		r.out, rest = r.z.process(r.outBuf[:0], r.pending, false)
		r.outBuf = r.out
		r.pending = append(r.pending[:0], rest...)
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *replacingReader) Close() error { return r.src.Close() }
