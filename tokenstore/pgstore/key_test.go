package pgstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStoredKey checks that every UseOnce key maps to a value PostgreSQL
// text and a B-tree index accept, and that distinct keys stay distinct.
func FuzzStoredKey(f *testing.F) {
	for _, s := range []string{"", "jti:app:1", "sha256:x", "a\x00b", "\xff", strings.Repeat("k", MaxPlainKeyLen+1)} {
		f.Add(s, s+"!")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		sa := storedKey(a)
		if !utf8.ValidString(sa) || strings.ContainsRune(sa, 0) || len(sa) > MaxPlainKeyLen {
			t.Fatalf("storedKey(%q) = %q: not a storable key", a, sa)
		}
		if sa == a != (len(a) <= MaxPlainKeyLen && utf8.ValidString(a) && !strings.ContainsRune(a, 0) && !strings.HasPrefix(a, "sha256:")) {
			t.Fatalf("storedKey(%q) = %q: plain keys must be kept, others hashed", a, sa)
		}
		if a != b && sa == storedKey(b) {
			t.Fatalf("storedKey(%q) == storedKey(%q)", a, b)
		}
	})
}
