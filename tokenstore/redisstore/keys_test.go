package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/smartauth/smartauth/tokenstore"
)

// clusterTag returns what Redis Cluster hashes of key: the content of the
// first {...} if not empty, else the whole key.
func clusterTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

func TestKeys(t *testing.T) {
	k := keyspace{prefix: "p:"}
	var h tokenstore.Hash
	h[0] = 0xab
	hexHash := h.String()
	cases := []struct{ got, want string }{
		{k.grant("AbC_-9"), "p:{AbC_-9}:g"},
		{k.token("AbC_-9", h), "p:{AbC_-9}:t:" + hexHash},
		{k.grant("a.b"), "p:{#" + sha256Hex("a.b") + "}:g"},
		{k.grant(strings.Repeat("x", 64)), "p:{" + strings.Repeat("x", 64) + "}:g"},
		{k.grant(strings.Repeat("x", 65)), "p:{#" + sha256Hex(strings.Repeat("x", 65)) + "}:g"},
		{k.grant(""), "p:{#" + sha256Hex("") + "}:g"},
		{k.index(h), "p:x:{" + hexHash + "}"},
		{k.once("jti:client-1:a.b_c"), "p:o:{jti:client-1:a.b_c}"},
		{k.once("jti:{x}"), "p:o:{#" + sha256Hex("jti:{x}") + "}"},
		{k.once("#abc"), "p:o:{#" + sha256Hex("#abc") + "}"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// FuzzKeys checks, for any two grant IDs or UseOnce keys (untrusted: they
// come from presented tokens and client assertions), that each key's
// Cluster hash tag is its family's or its own, and that distinct inputs
// never share a key.
func FuzzKeys(f *testing.F) {
	f.Add("AbC", "AbC2")
	f.Add("a{b}c", "{")
	f.Add("#"+sha256Hex("x"), "x")
	f.Add("", "}")
	f.Add("jti:c:1", "jti:c:1.")
	f.Fuzz(func(t *testing.T, a, b string) {
		k := keyspace{prefix: "p:"}
		var h tokenstore.Hash
		for _, id := range []string{a, b} {
			g, tok, once := k.grant(id), k.token(id, h), k.once(id)
			if clusterTag(g) != clusterTag(tok) || clusterTag(g) == g {
				t.Fatalf("grant %q: keys %q and %q do not share a hash tag", id, g, tok)
			}
			if tag := clusterTag(once); tag == once || strings.ContainsAny(tag, "{}") {
				t.Fatalf("once %q: key %q has no proper tag", id, once)
			}
			if !strings.HasSuffix(g, "}:g") || strings.Count(g, "{") != 1 || strings.Count(g, "}") != 1 {
				t.Fatalf("grant %q: malformed key %q", id, g)
			}
		}
		if a != b && (k.grant(a) == k.grant(b) || k.once(a) == k.once(b)) {
			t.Fatalf("%q and %q share a key", a, b)
		}
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
