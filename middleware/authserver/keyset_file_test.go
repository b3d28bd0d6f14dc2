package authserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/middleware"
	"github.com/smartauth/smartauth/middleware/authserver"
)

// managed returns k with a status (and retire time).
func managed(k authserver.SigningKey, status authserver.KeyStatus, retireAfter time.Time) authserver.ManagedKey {
	return authserver.ManagedKey{SigningKey: k, Status: status, RetireAfter: retireAfter}
}

// withID returns k with ID id.
func withID(k authserver.SigningKey, id string) authserver.SigningKey {
	k.ID = id
	return k
}

// marshalKeys is MarshalKeySet that must succeed.
func marshalKeys(t testing.TB, keys ...authserver.ManagedKey) []byte {
	t.Helper()
	b, err := authserver.MarshalKeySet(keys)
	require.NoError(t, err)
	return b
}

// jwksKIDs returns the kids of the KeySet's published JWK Set, in order.
func jwksKIDs(t testing.TB, ks *authserver.KeySet) []string {
	t.Helper()
	b, err := ks.PublicJWKS()
	require.NoError(t, err)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(b, &set))
	var kids []string
	for _, k := range set.Keys {
		assert.NotContains(t, k, "d", "a private member was published")
		kid, _ := k["kid"].(string)
		kids = append(kids, kid)
	}
	return kids
}

// TestKeySetFileRoundTrip: MarshalKeySet writes every key type, and
// ParseKeySet reads back the same keys with their statuses: the active key
// signs, and its tokens verify with the key the file describes.
func TestKeySetFileRoundTrip(t *testing.T) {
	c := &clock{t: testStart}
	retire := testStart.Add(time.Hour)
	for _, alg := range []string{"RS256", "PS384", "ES256", "ES384", "ES512", "EdDSA", "HS256"} {
		t.Run(alg, func(t *testing.T) {
			active := withID(testKey(t, alg), "active-"+alg)
			next := withID(testKey(t, "ES256"), "next")
			retired := withID(testKey(t, "RS256"), "retired")
			doc := marshalKeys(t,
				managed(next, authserver.KeyNext, time.Time{}),
				managed(active, authserver.KeyActive, time.Time{}),
				managed(retired, authserver.KeyRetired, retire),
			)
			ks, err := authserver.ParseKeySet(doc, authserver.WithHMAC(), authserver.WithKeySetClock(c.Now),
				authserver.WithKeySetLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)
			assert.Equal(t, "active-"+alg, ks.ActiveKeyID())
			assert.Equal(t, alg, ks.Algorithm())
			want := []string{"active-" + alg, "next", "retired"}
			if alg == "HS256" {
				want = want[1:] // never published
			}
			assert.Equal(t, want, jwksKIDs(t, ks))

			// The same keys again: the same file, and a reload changes nothing.
			again, err := authserver.MarshalKeySet([]authserver.ManagedKey{
				managed(next, authserver.KeyNext, time.Time{}),
				managed(active, authserver.KeyActive, time.Time{}),
				managed(retired, authserver.KeyRetired, retire),
			})
			require.NoError(t, err)
			assert.Equal(t, doc, again, "MarshalKeySet is deterministic")
			require.NoError(t, ks.Reload(again))

			tok, err := ks.Sign(authserver.TypeAccessToken, accessClaims(time.Hour))
			require.NoError(t, err)
			ref, err := authserver.NewKeySet(active, authserver.WithHMAC())
			require.NoError(t, err)
			v, err := ref.AccessTokenVerifier(keySetVerifierConfig(c.Now))
			require.NoError(t, err)
			_, err = v.VerifyToken(context.Background(), tok)
			require.NoError(t, err, "a token of the loaded key verifies with the original key")
		})
	}
}

// TestKeySetFileJWKMembers: the JWK Set form as written by hand — kid, alg
// and status defaults, use and key_ops, members ignored.
func TestKeySetFileJWKMembers(t *testing.T) {
	ec := testKey(t, "ES384")
	var jwk map[string]any
	doc := marshalKeys(t, managed(ec, authserver.KeyActive, time.Time{}))
	var set struct{ Keys []map[string]any }
	require.NoError(t, json.Unmarshal(doc, &set))
	jwk = set.Keys[0]
	assert.Equal(t, ec.ID, jwk["kid"], "the thumbprint is written as kid")
	for _, m := range []string{"kid", "alg", "status", "use"} {
		delete(jwk, m)
	}
	jwk["key_ops"] = []string{"sign", "verify"}
	jwk["x5t"] = "ignored"
	b, err := json.Marshal(map[string]any{"keys": []any{jwk}, "comment": "ignored"})
	require.NoError(t, err)
	ks, err := authserver.ParseKeySet(b)
	require.NoError(t, err)
	assert.Equal(t, ec.ID, ks.ActiveKeyID(), "kid: the thumbprint")
	assert.Equal(t, "ES384", ks.Algorithm(), "alg: from the curve")
}

// pemBlock encodes key as a PEM block of the given type with headers.
func pemBlock(t testing.TB, typ string, key any, headers map[string]string) []byte {
	t.Helper()
	var der []byte
	var err error
	switch typ {
	case "PRIVATE KEY":
		der, err = x509.MarshalPKCS8PrivateKey(key)
	case "RSA PRIVATE KEY":
		der = x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))
	case "EC PRIVATE KEY":
		der, err = x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	}
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

// TestKeySetFilePEM: the PEM form, in each encoding, with and without
// headers.
func TestKeySetFilePEM(t *testing.T) {
	c := &clock{t: testStart}
	rsaKey, ecKey, edKey := testKey(t, "RS256"), testKey(t, "ES256"), testKey(t, "EdDSA")
	ec384 := testKey(t, "ES384")
	tests := []struct {
		name            string
		doc             []byte
		wantActive, alg string
		wantPublished   []string
	}{
		{
			name:       "one PKCS #8 EC key, no headers",
			doc:        pemBlock(t, "PRIVATE KEY", ecKey.Key, nil),
			wantActive: ecKey.ID, alg: "ES256", wantPublished: []string{ecKey.ID},
		},
		{
			name:       "PKCS #1 RSA key: RS256 unless alg says otherwise",
			doc:        pemBlock(t, "RSA PRIVATE KEY", rsaKey.Key, map[string]string{"kid": "rsa-1"}),
			wantActive: "rsa-1", alg: "RS256", wantPublished: []string{"rsa-1"},
		},
		{
			name:       "PKCS #8 RSA key with alg PS256",
			doc:        pemBlock(t, "PRIVATE KEY", rsaKey.Key, map[string]string{"kid": "rsa-ps", "alg": "PS256"}),
			wantActive: "rsa-ps", alg: "PS256", wantPublished: []string{"rsa-ps"},
		},
		{
			name:       "SEC 1 EC key",
			doc:        pemBlock(t, "EC PRIVATE KEY", ec384.Key, map[string]string{"kid": "ec-384"}),
			wantActive: "ec-384", alg: "ES384", wantPublished: []string{"ec-384"},
		},
		{
			name: "a rotation: next, active and retired, with text between blocks",
			doc: slicesConcat(
				[]byte("# signing keys of auth.example.org\n"),
				pemBlock(t, "PRIVATE KEY", edKey.Key, map[string]string{"kid": "2025-09", "status": "next"}),
				[]byte("\n# current\n"),
				pemBlock(t, "PRIVATE KEY", ecKey.Key, map[string]string{"kid": "2025-06", "status": "active"}),
				pemBlock(t, "RSA PRIVATE KEY", rsaKey.Key, map[string]string{
					"kid": "2025-03", "status": "retired", "retire_after": testStart.Add(time.Hour).Format(time.RFC3339)}),
				pemBlock(t, "RSA PRIVATE KEY", rsaKey.Key, map[string]string{
					"kid": "2024-12", "status": "retired", "retire_after": testStart.Add(-time.Second).Format(time.RFC3339)}),
			),
			wantActive: "2025-06", alg: "ES256", wantPublished: []string{"2025-06", "2025-09", "2025-03"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := authserver.ParseKeySet(tt.doc, authserver.WithKeySetClock(c.Now))
			require.NoError(t, err)
			assert.Equal(t, tt.wantActive, ks.ActiveKeyID())
			assert.Equal(t, tt.alg, ks.Algorithm())
			assert.Equal(t, tt.wantPublished, jwksKIDs(t, ks))
			_, err = ks.Sign(authserver.TypeAccessToken, accessClaims(time.Hour))
			require.NoError(t, err)
		})
	}
}

func slicesConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestKeySetFileErrors: every malformed or inconsistent key set file is
// refused with ErrInvalidKeySet and an error that names the key by index
// and kid, never by its material.
func TestKeySetFileErrors(t *testing.T) {
	ec, ec2, rsaKey := testKey(t, "ES256"), testKey(t, "ES384"), testKey(t, "RS256")
	hs := testKey(t, "HS256")
	good := func() map[string]any {
		var set struct{ Keys []map[string]any }
		require.NoError(t, json.Unmarshal(marshalKeys(t, managed(withID(ec, "k1"), authserver.KeyActive, time.Time{})), &set))
		return set.Keys[0]
	}
	goodRSA := func() map[string]any {
		var set struct{ Keys []map[string]any }
		require.NoError(t, json.Unmarshal(marshalKeys(t, managed(withID(rsaKey, "r1"), authserver.KeyActive, time.Time{})), &set))
		return set.Keys[0]
	}
	edit := func(base func() map[string]any, f func(map[string]any)) []byte {
		k := base()
		f(k)
		b, err := json.Marshal(map[string]any{"keys": []any{k}})
		require.NoError(t, err)
		return b
	}
	keys := func(ks ...authserver.ManagedKey) []byte {
		var all []json.RawMessage
		for _, k := range ks {
			var set struct{ Keys []json.RawMessage }
			require.NoError(t, json.Unmarshal(marshalKeys(t, managed(k.SigningKey, authserver.KeyActive, time.Time{})), &set))
			var m map[string]any
			require.NoError(t, json.Unmarshal(set.Keys[0], &m))
			m["status"] = string(k.Status)
			if !k.RetireAfter.IsZero() {
				m["retire_after"] = k.RetireAfter.Format(time.RFC3339)
			}
			r, err := json.Marshal(m)
			require.NoError(t, err)
			all = append(all, r)
		}
		out, err := json.Marshal(map[string]any{"keys": all})
		require.NoError(t, err)
		return out
	}
	secrets := []string{good()["d"].(string), goodRSA()["d"].(string), goodRSA()["p"].(string)}

	tests := []struct {
		name string
		doc  []byte
		want string // the error message after "authserver: invalid key set: "
	}{
		{"empty", nil, "neither a JWK Set nor PEM"},
		{"text", []byte("hello"), "neither a JWK Set nor PEM"},
		{"broken JSON", []byte(`{"keys": [`), "not a JSON object"},
		{"no keys member", []byte(`{"kids": []}`), `"keys" must be an array`},
		{"keys not an array", []byte(`{"keys": {}}`), `"keys" must be an array`},
		{"empty key list", []byte(`{"keys": []}`), "no active key"},
		{"key not an object", []byte(`{"keys": ["x"]}`), "key 0 is not a JSON object"},
		{"unknown kty", edit(good, func(k map[string]any) { k["kty"] = "XYZ" }), `key 0 (kid "k1"): "kty" must be RSA, EC, OKP or oct`},
		{"kid not a string", edit(good, func(k map[string]any) { k["kid"] = 7 }), `key 0 (kid ""): "kid" is not a string`},
		{"missing d (a public key)", edit(good, func(k map[string]any) { delete(k, "d") }), `key 0 (kid "k1"): "d" is missing`},
		{"padded base64", edit(good, func(k map[string]any) { k["d"] = k["d"].(string) + "=" }), `key 0 (kid "k1"): "d" is not unpadded base64url`},
		{"standard base64", edit(good, func(k map[string]any) {
			k["d"] = strings.NewReplacer("-", "+", "_", "/").Replace(k["d"].(string)) + "+"
		}),
			`key 0 (kid "k1"): "d" is not unpadded base64url`},
		{"x of another key", edit(good, func(k map[string]any) { k["x"] = k["y"] }), `key 0 (kid "k1"): "x" and "y" are not the public key of "d"`},
		{"d too short", edit(good, func(k map[string]any) { k["d"] = k["d"].(string)[:20] }), `key 0 (kid "k1"): "d" is not a private key of the curve`},
		{"unknown curve", edit(good, func(k map[string]any) { k["crv"] = "P-192" }), `key 0 (kid "k1"): "crv" must be P-256, P-384 or P-521`},
		{"alg of another curve", edit(good, func(k map[string]any) { k["alg"] = "ES384" }), `key 0 (kid "k1"): authserver: invalid signing key: key type *ecdsa.PrivateKey does not fit ES384`},
		{"alg none", edit(good, func(k map[string]any) { k["alg"] = "none" }), `key 0 (kid "k1"): authserver: invalid signing key: unsupported algorithm "none"`},
		{"use enc", edit(good, func(k map[string]any) { k["use"] = "enc" }), `key 0 (kid "k1"): "use" must be "sig"`},
		{"key_ops without sign", edit(good, func(k map[string]any) { k["key_ops"] = []string{"verify"} }), `key 0 (kid "k1"): "key_ops" must contain "sign"`},
		{"RSA inconsistent", edit(goodRSA, func(k map[string]any) { k["p"] = k["q"] }), `key 0 (kid "r1"): the RSA private key is not consistent`},
		{"RSA multi-prime", edit(goodRSA, func(k map[string]any) { k["oth"] = []any{} }), `key 0 (kid "r1"): multi-prime RSA keys are not supported`},
		{"RSA huge exponent", edit(goodRSA, func(k map[string]any) { k["e"] = "AQAAAAAAAAAB" }), `key 0 (kid "r1"): "e" is too large`},
		{"RSA zero", edit(goodRSA, func(k map[string]any) { k["d"] = "AA" }), `key 0 (kid "r1"): "d" is zero`},
		{"unknown status", edit(good, func(k map[string]any) { k["status"] = "current" }), `key 0 (kid "k1"): status must be next, active or retired`},
		{"retire time on the active key", edit(good, func(k map[string]any) { k["retire_after"] = "2030-01-01T00:00:00Z" }),
			`key 0 (kid "k1"): only a retired key has a retire time`},
		{"retire time not RFC 3339", edit(good, func(k map[string]any) { k["status"] = "retired"; k["retire_after"] = "tomorrow" }),
			`key 0 (kid "k1"): "retire_after" is not an RFC 3339 time`},
		{"retired without retire time", keys(managed(withID(ec, "a"), authserver.KeyActive, time.Time{}), managed(withID(ec2, "b"), authserver.KeyRetired, time.Time{})),
			`key 1 (kid "b"): a retired key needs a retire time`},
		{"two active keys", keys(managed(withID(ec, "a"), authserver.KeyActive, time.Time{}), managed(withID(ec2, "b"), authserver.KeyActive, time.Time{})),
			`key 1 (kid "b"): more than one active key`},
		{"next only", keys(managed(withID(ec, "a"), authserver.KeyNext, time.Time{})), "no active key"},
		{"one kid for two keys", keys(managed(withID(ec, "a"), authserver.KeyActive, time.Time{}), managed(withID(ec2, "a"), authserver.KeyNext, time.Time{})),
			`key 1 (kid "a"): the key ID is used twice`},
		{"HMAC without WithHMAC", keys(managed(hs, authserver.KeyActive, time.Time{})), `key 0 (kid "` + hs.ID + `"): authserver: invalid signing key: HMAC keys need WithHMAC`},
		{"PEM: unknown header", pemBlock(t, "PRIVATE KEY", ec.Key, map[string]string{"kid": "p", "Key-ID": "x"}),
			`key 0 (kid "p"): unknown PEM header "Key-ID" (kid, alg, status and retire_after are known; encrypted keys are not supported)`},
		{"PEM: encrypted", pemBlock(t, "RSA PRIVATE KEY", rsaKey.Key, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}),
			`key 0 (kid ""): unknown PEM header`},
		{"PEM: a certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), `key 0 (kid ""): PEM block type "CERTIFICATE" is not a private key`},
		{"PEM: not DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), `key 0 (kid ""): PRIVATE KEY: not a valid key`},
		{"PEM: a damaged block", slicesConcat(pemBlock(t, "PRIVATE KEY", ec.Key, map[string]string{"kid": "ok"}),
			[]byte("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n")), "2 PEM blocks begin but 1 decode"},
		{"PEM: status of nothing", pemBlock(t, "PRIVATE KEY", ec.Key, map[string]string{"status": "retiring"}),
			`key 0 (kid "` + ec.ID + `"): status must be next, active or retired`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authserver.ParseKeySet(tt.doc, authserver.WithKeySetClock((&clock{t: testStart}).Now))
			require.ErrorIs(t, err, authserver.ErrInvalidKeySet)
			assert.True(t, strings.HasPrefix(err.Error(), "authserver: invalid key set: "+tt.want), "error: %v", err)
			for _, s := range secrets {
				assert.NotContains(t, err.Error(), s)
			}
			// Reload refuses it alike and keeps the keys.
			ks, err := authserver.NewKeySet(testKey(t, "ES256"))
			require.NoError(t, err)
			require.ErrorIs(t, ks.Reload(tt.doc), authserver.ErrInvalidKeySet)
			assert.Equal(t, testKey(t, "ES256").ID, ks.ActiveKeyID())
		})
	}
}

// TestLoadKeySetFileMode: a key set file must be a regular file that
// others cannot read and the group cannot write, of at most 1 MiB.
func TestLoadKeySetFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not checked on Windows")
	}
	dir := t.TempDir()
	doc := marshalKeys(t, managed(testKey(t, "ES256"), authserver.KeyActive, time.Time{}))
	write := func(name string, mode os.FileMode, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		require.NoError(t, os.Chmod(p, mode))
		return p
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o640, 0o440} {
		p := write("ok-"+mode.String(), mode, doc)
		ks, err := authserver.LoadKeySetFile(p)
		require.NoError(t, err, "mode %04o", mode)
		assert.Equal(t, testKey(t, "ES256").ID, ks.ActiveKeyID())
	}
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(write("target", 0o600, doc), link))
	_, err := authserver.LoadKeySetFile(link)
	require.NoError(t, err, "a symbolic link to a private file")

	for _, mode := range []os.FileMode{0o644, 0o604, 0o660, 0o620, 0o666, 0o601} {
		p := write("bad-"+mode.String(), mode, doc)
		_, err := authserver.LoadKeySetFile(p)
		require.ErrorIs(t, err, authserver.ErrInvalidKeySet, "mode %04o", mode)
		assert.EqualError(t, err, "authserver: invalid key set: "+p+" has mode "+octal(mode)+
			": others may read it or its group may write it (chmod 600)")
	}
	_, err = authserver.LoadKeySetFile(dir)
	assert.EqualError(t, err, "authserver: invalid key set: "+dir+" is not a regular file")
	big := write("big", 0o600, append(doc, bytes.Repeat([]byte(" "), 1<<20)...))
	_, err = authserver.LoadKeySetFile(big)
	assert.EqualError(t, err, "authserver: invalid key set: "+big+" is larger than 1048576 bytes")
	_, err = authserver.LoadKeySetFile(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	broken := write("broken", 0o600, []byte(`{"keys": []}`))
	_, err = authserver.LoadKeySetFile(broken)
	assert.EqualError(t, err, "authserver: invalid key set: no active key (file "+broken+")")
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := uint32(m.Perm())
	return string([]byte{'0', digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}

// TestKeySetStatuses: a next key is published and accepted but does not
// sign; a retired key is published and accepted until its time, then
// dropped without a reload.
func TestKeySetStatuses(t *testing.T) {
	c := &clock{t: testStart}
	k1, k2, k3 := withID(testKey(t, "ES256"), "k1"), withID(testKey(t, "ES384"), "k2"), withID(testKey(t, "EdDSA"), "k3")
	signer := func(k authserver.SigningKey) *authserver.KeySet {
		ks, err := authserver.NewKeySet(k)
		require.NoError(t, err)
		return ks
	}
	tokenOf := func(k authserver.SigningKey) string {
		tok, err := signer(k).Sign(authserver.TypeAccessToken, accessClaims(3*time.Hour))
		require.NoError(t, err)
		return tok
	}
	ks, err := authserver.ParseKeySet(marshalKeys(t,
		managed(k1, authserver.KeyRetired, testStart.Add(time.Hour)),
		managed(k2, authserver.KeyActive, time.Time{}),
		managed(k3, authserver.KeyNext, time.Time{}),
	), authserver.WithKeySetClock(c.Now))
	require.NoError(t, err)
	v, err := ks.AccessTokenVerifier(keySetVerifierConfig(c.Now))
	require.NoError(t, err)

	assert.Equal(t, "k2", ks.ActiveKeyID())
	assert.Equal(t, []string{"k2", "k3", "k1"}, jwksKIDs(t, ks))
	assert.Len(t, ks.PublicKeys(), 3)
	for _, k := range []authserver.SigningKey{k1, k2, k3} {
		_, err := v.VerifyToken(context.Background(), tokenOf(k))
		assert.NoError(t, err, k.ID)
	}
	signed, err := ks.Sign(authserver.TypeAccessToken, accessClaims(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "k2", jwtPart(t, signed, 0)["kid"])

	c.Advance(time.Hour)
	assert.Equal(t, []string{"k2", "k3"}, jwksKIDs(t, ks))
	_, err = v.VerifyToken(context.Background(), tokenOf(k1))
	assert.ErrorIs(t, err, middleware.ErrAlgorithmNotAllowed, "no ES256 key is left")
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// textLogger logs to buf without times.
func textLogger(buf *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// TestSetKeysChanges: SetKeys refuses a key ID reused for another key and
// keeps the keys; it logs the unsafe changes of a rotation that skips a
// step, and nothing but the new keys for the safe ones.
func TestSetKeysChanges(t *testing.T) {
	c := &clock{t: testStart}
	k1, k2, k3 := withID(testKey(t, "ES256"), "k1"), withID(testKey(t, "ES384"), "k2"), withID(testKey(t, "EdDSA"), "k3")
	var buf lockedBuffer
	ks, err := authserver.ParseKeySet(marshalKeys(t, managed(k1, authserver.KeyActive, time.Time{})),
		authserver.WithKeySetClock(c.Now), authserver.WithKeySetLogger(textLogger(&buf)))
	require.NoError(t, err)
	retire := testStart.Add(2 * time.Hour)

	// The procedure: no warning.
	require.NoError(t, ks.SetKeys([]authserver.ManagedKey{managed(k1, authserver.KeyActive, time.Time{}), managed(k2, authserver.KeyNext, time.Time{})}))
	require.NoError(t, ks.SetKeys([]authserver.ManagedKey{managed(k2, authserver.KeyActive, time.Time{}), managed(k1, authserver.KeyRetired, retire)}))
	require.NoError(t, ks.SetKeys([]authserver.ManagedKey{managed(k2, authserver.KeyActive, time.Time{})}))
	require.NoError(t, ks.SetKeys([]authserver.ManagedKey{managed(k2, authserver.KeyActive, time.Time{})})) // no change: not logged
	assert.Equal(t,
		`level=INFO msg="authserver: signing keys set" active=k1 next=[k2] retired=[]`+"\n"+
			`level=INFO msg="authserver: signing keys set" active=k2 next=[] retired=[k1]`+"\n"+
			`level=INFO msg="authserver: signing keys set" active=k2 next=[] retired=[]`+"\n",
		buf.String())

	// A key ID reused for another key: refused, keys unchanged.
	err = ks.SetKeys([]authserver.ManagedKey{managed(withID(k3, "k2"), authserver.KeyActive, time.Time{})})
	require.ErrorIs(t, err, authserver.ErrInvalidKeySet)
	assert.EqualError(t, err, `authserver: invalid key set: key ID "k2" already names another key`)
	assert.Equal(t, "k2", ks.ActiveKeyID())

	// Skipping steps: warned, applied.
	buf = lockedBuffer{}
	ks2, err := authserver.ParseKeySet(marshalKeys(t, managed(k1, authserver.KeyActive, time.Time{})),
		authserver.WithKeySetClock(c.Now), authserver.WithKeySetLogger(textLogger(&buf)))
	require.NoError(t, err)
	require.NoError(t, ks2.SetKeys([]authserver.ManagedKey{managed(k3, authserver.KeyActive, time.Time{})}))
	assert.Equal(t,
		`level=WARN msg="authserver: the previously active signing key is no longer published; the tokens it signed are refused" kid=k1`+"\n"+
			`level=WARN msg="authserver: a signing key became active without having been published as next; `+
			`other instances and resource servers refuse its tokens until they have it" kid=k3`+"\n"+
			`level=INFO msg="authserver: signing keys set" active=k3 next=[] retired=[]`+"\n",
		buf.String())
	assert.Equal(t, "k3", ks2.ActiveKeyID())

	// Rotate promotes a next key, and refuses another key under its ID.
	ks3, err := authserver.ParseKeySet(marshalKeys(t, managed(k1, authserver.KeyActive, time.Time{}), managed(k2, authserver.KeyNext, time.Time{})),
		authserver.WithKeySetClock(c.Now), authserver.WithKeySetLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	require.ErrorIs(t, ks3.Rotate(withID(k3, "k2"), retire), authserver.ErrInvalidSigningKey)
	require.NoError(t, ks3.Rotate(k2, retire))
	assert.Equal(t, "k2", ks3.ActiveKeyID())
	assert.Equal(t, []string{"k2", "k1"}, jwksKIDs(t, ks3))
}

// TestWatchFile: WatchFile follows the file: a change is loaded, a broken
// file keeps the current keys and is logged once, the repaired file is
// loaded again.
func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	k1, k2 := withID(testKey(t, "ES256"), "k1"), withID(testKey(t, "ES384"), "k2")
	// Replace the file atomically, as a configuration system would.
	write := func(data []byte) {
		tmp := filepath.Join(dir, "keys.tmp")
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, path))
	}
	write(marshalKeys(t, managed(k1, authserver.KeyActive, time.Time{})))
	var buf lockedBuffer
	ks, err := authserver.LoadKeySetFile(path, authserver.WithKeySetLogger(textLogger(&buf)))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ks.WatchFile(ctx, path, time.Millisecond)
	}()
	defer func() {
		cancel()
		<-done
	}()
	eventually := func(cond func() bool, what string) {
		t.Helper()
		require.Eventually(t, cond, 10*time.Second, time.Millisecond, what)
	}

	write(marshalKeys(t, managed(k1, authserver.KeyActive, time.Time{}), managed(k2, authserver.KeyNext, time.Time{})))
	eventually(func() bool { return len(ks.PublicKeys()) == 2 }, "the next key is published")
	write(marshalKeys(t, managed(k2, authserver.KeyActive, time.Time{}), managed(k1, authserver.KeyRetired, time.Now().Add(time.Hour))))
	eventually(func() bool { return ks.ActiveKeyID() == "k2" }, "the next key is active")

	write([]byte(`{"keys": [`))
	eventually(func() bool { return strings.Contains(buf.String(), "level=ERROR") }, "the broken file is logged")
	write([]byte(`{"keys": [`)) // the same content again: not logged again
	assert.Equal(t, "k2", ks.ActiveKeyID(), "the current keys stay")
	require.NoError(t, os.Chmod(path, 0o644))
	eventually(func() bool { return strings.Count(buf.String(), "level=ERROR") == 2 }, "the mode is logged")

	write(marshalKeys(t, managed(k2, authserver.KeyActive, time.Time{})))
	eventually(func() bool { return len(ks.PublicKeys()) == 1 }, "the repaired file is loaded")

	cancel()
	<-done
	out := buf.String()
	assert.Equal(t, 1, strings.Count(out, `level=ERROR msg="authserver: key set file not loaded; the current signing keys stay in use" path=`+path+
		` error="authserver: invalid key set: not a JSON object (file `+path+`)"`), out)
	assert.Equal(t, 1, strings.Count(out, "has mode 0644"), out)
	for _, k := range []authserver.SigningKey{k1, k2} {
		doc := string(marshalKeys(t, managed(k, authserver.KeyActive, time.Time{})))
		d := doc[strings.Index(doc, `"d": "`)+6:]
		assert.NotContains(t, out, d[:strings.IndexByte(d, '"')], "private key logged")
	}
}
