package middleware

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
)

// FuzzJWTVerifyToken feeds arbitrary strings to VerifyToken: it must never
// panic, every error must wrap one of the package's sentinels, and no error
// text may contain anything from the input.
func FuzzJWTVerifyToken(f *testing.F) {
	k := jwtTestKeys()
	payload := claimsJSON(f, nil)
	for _, seed := range []string{
		handSign(f, "RS256", headerJSON("RS256", "rsa", `"typ":"at+jwt"`), payload, k.rsa),
		handSign(f, "ES256", headerJSON("ES256", "ec256"), payload, k.ec256),
		handSign(f, "EdDSA", headerJSON("EdDSA", "ed", `"crit":["x"]`, `"x":1`), payload, k.ed),
		handSign(f, "HS256", headerJSON("HS256", "hs"), payload, k.hmac),
		handSign(f, "HS256", headerJSON("HS256", "rsa"), payload, k.hmac),
		b64url(`{"alg":"none"}`) + "." + b64url(payload) + ".",
		b64url(`{"alg":"RS256","kid":"rsa"}`) + "." + b64url(`{"exp":"x","patient":1}`) + ".c2ln",
		"a.b.c", "", "....", "eyJ.eyJ.",
	} {
		f.Add(seed)
	}
	if raw, err := os.ReadFile("../testdata/launcher_access_token.jwt"); err == nil {
		f.Add(strings.TrimSpace(string(raw)))
	}

	cfg := staticTestConfig()
	cfg.Algorithms = append(defaultAlgorithms(), "HS256")
	cfg.HMACSecrets = map[string][]byte{"hs": k.hmac}
	cfg.UnderstoodCritical = []string{"x"}
	cfg.MaxTokenSize = 4096
	v, err := NewJWTVerifier(f.Context(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	names := DefaultClaimNames()
	claimNames := []string{"iss", "sub", "jti", "aud", "iat", "exp", "nbf", "azp", names.Patient, names.Encounter,
		names.FHIRContext, names.FHIRUser, names.NeedPatientBanner, names.SmartStyleURL, names.Intent,
		names.Tenant, names.Scope, names.ClientID, names.GrantID}

	f.Fuzz(func(t *testing.T, token string) {
		lc, err := v.VerifyToken(t.Context(), token)
		if err == nil {
			if lc == nil {
				t.Fatal("nil LaunchContext without error")
			}
			// Authenticate skips the b64token check for tokens the
			// verifier knows.
			if !isB64Token(token) {
				t.Fatalf("accepted token %q is not a b64token", token)
			}
			return
		}
		if lc != nil {
			t.Fatal("LaunchContext with an error")
		}
		// Errors are either fixed texts, or name a claim (never its value).
		var ve *verifyError
		if errors.As(err, &ve) {
			return
		}
		if !errors.Is(err, ErrBadLaunchContext) {
			t.Fatalf("unexpected error %v", err)
		}
		msg := strings.TrimPrefix(err.Error(), ErrBadLaunchContext.Error()+": claim ")
		for _, name := range claimNames {
			if strings.HasPrefix(msg, `"`+name) {
				return
			}
		}
		t.Fatalf("launch context error %q names no known claim", err)
	})
}

// FuzzJWTClaimsMatchGolangJWT signs arbitrary payloads and checks the
// verifier against a reference built the way it was before it read
// payloads itself: golang-jwt parsing into MapClaims (exp required, iat
// checked), then iss, aud and NewLaunchContext over the map. Both must
// accept the same tokens and grant the same LaunchContext, Claims
// included.
func FuzzJWTClaimsMatchGolangJWT(f *testing.F) {
	for _, seed := range []string{
		claimsJSON(f, nil),
		claimsJSON(f, map[string]any{"aud": []any{"x", jwtTestAudience}, "nbf": jwtTestNow.Unix(), "fhirContext": []any{"A/1"}}),
		claimsJSON(f, map[string]any{"patient": nil, "context": map[string]any{"patient": "p2", "need_patient_banner": "true"}}),
		claimsJSON(f, map[string]any{"scope": []any{"a", "b"}, "client_id": nil, "azp": "z", "exp": 1.9e9 + 0.5}),
		claimsJSON(f, map[string]any{"iat": "x"}),
		`{"iss":"https://auth.example.org","aud":"https://fhir.example.org/r4","exp":1900003600,"Patient":"x","pat\u0069ent":"y","patient":1}`,
		`{"iss":"https://auth.example.org","aud":"https://fhir.example.org/r4","exp":1900003600,"x":[1e999]}`,
		`{"iss":"https://auth.example.org","aud":"https://fhir.example.org/r4","exp":1900003600,"exp":null}`,
		`{"iss":"https://auth.example.org","aud":"https://fhir.example.org/r4","exp":1900003600,"sub":"\u00e9\ud800"}`,
		`[1]`, `null`, `{"exp":0}`,
	} {
		f.Add(seed)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	cfg := JWTConfig{
		Algorithms:  []string{"HS256"},
		HMACSecrets: map[string][]byte{"": secret},
		Issuers:     []string{jwtTestIssuer},
		Audience:    jwtTestAudience,
		Now:         func() time.Time { return jwtTestNow },
		Leeway:      5 * time.Second,
		CacheSize:   -1,
	}
	v, err := NewJWTVerifier(f.Context(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(cfg.Now),
		jwt.WithLeeway(cfg.Leeway), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	reference := func(token string) (*LaunchContext, error) {
		claims := jwt.MapClaims{}
		if _, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return secret, nil }); err != nil {
			return nil, err
		}
		if iss, _ := claims["iss"].(string); iss != jwtTestIssuer {
			return nil, ErrBadIssuer
		}
		if !audienceContains(claims["aud"], jwtTestAudience) {
			return nil, ErrBadAudience
		}
		return NewLaunchContext(claims, ClaimNames{})
	}

	f.Fuzz(func(t *testing.T, payload string) {
		token := handSign(t, "HS256", `{"alg":"HS256"}`, payload, secret)
		if len(token) > defaultMaxTokenSize {
			return
		}
		// Deliberate differences: the verifier refuses NumericDates before
		// 1970 or after 9999 (golang-jwt takes nbf -1 as valid, and what it
		// makes of 1e300 depends on the platform).
		var m map[string]any
		if json.Unmarshal([]byte(payload), &m) == nil {
			for _, name := range []string{"exp", "nbf", "iat"} {
				if f, ok := m[name].(float64); ok && (f < 0 || f > maxNumericDate) {
					return
				}
			}
		}
		got, err := v.VerifyToken(t.Context(), token)
		want, wantErr := reference(token)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("payload %q: verifier error %v, reference error %v", payload, err, wantErr)
		}
		if err != nil {
			return
		}
		if !isB64Token(token) {
			t.Fatalf("accepted token %q is not a b64token", token)
		}
		assert.Equal(t, want.Claims(), got.Claims())
		gotFields, wantFields := *got, *want
		gotFields.claims, wantFields.claims = nil, nil
		assert.Equal(t, wantFields, gotFields)
	})
}

// FuzzJWTHeaderMatchesMapDecode signs a valid payload under arbitrary
// headers and checks the verifier's header handling against the rules
// applied to the header decoded by encoding/json into a map, as golang-jwt
// decodes it: alg, typ, crit and kid, the last of duplicate members
// counting.
func FuzzJWTHeaderMatchesMapDecode(f *testing.F) {
	for _, seed := range []string{
		`{"alg":"HS256"}`, `{"alg":"HS256","typ":"at+jwt"}`, `{"alg":"HS256","typ":"application/AT+JWT","kid":"k1"}`,
		`{"alg":"HS256","kid":"nope"}`, `{"alg":"HS256","kid":7}`, `{"alg":"HS256","kid":null}`, `{"alg":"none"}`,
		`{"alg":"HS256","crit":["x"],"x":1}`, `{"alg":"HS256","crit":["x"]}`, `{"alg":"HS256","crit":["y"],"y":1}`,
		`{"alg":"HS256","crit":[]}`, `{"alg":"HS256","crit":"x","x":1}`, `{"alg":"HS256","crit":[["x"]],"x":1}`,
		`{"ALG":"HS256"}`, `{"\u0061lg":"HS256","t\u0079p":"at+jwt"}`, `{"alg":"HS256","alg":"RS256"}`,
		`{"alg":"RS256","alg":"HS256"}`, `{"alg":["HS256"]}`, `[]`, `{"alg":"HS256","typ":"at+jwt","typ":"JWT"}`,
	} {
		f.Add(seed)
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	keys := map[string][]byte{"": secret, "k1": secret}
	base := JWTConfig{
		Algorithms:         []string{"HS256"},
		HMACSecrets:        keys,
		Issuers:            []string{jwtTestIssuer},
		Audience:           jwtTestAudience,
		Now:                func() time.Time { return jwtTestNow },
		UnderstoodCritical: []string{"x"},
		CacheSize:          -1,
	}
	typed := base
	typed.RequireType = "at+jwt"
	verifiers := map[string]*JWTVerifier{}
	for name, cfg := range map[string]JWTConfig{"": base, "at+jwt": typed} {
		v, err := NewJWTVerifier(f.Context(), cfg)
		if err != nil {
			f.Fatal(err)
		}
		verifiers[name] = v
	}
	payload := claimsJSON(f, nil)

	reference := func(header []byte, requireType string) bool {
		var h map[string]any
		if json.Unmarshal(header, &h) != nil || h == nil {
			return false
		}
		if alg, _ := h["alg"].(string); alg != "HS256" {
			return false
		}
		if requireType != "" {
			typ, _ := h["typ"].(string)
			if !strings.EqualFold(trimMediaTypePrefix(typ), requireType) {
				return false
			}
		}
		if raw, ok := h["crit"]; ok {
			list, ok := raw.([]any)
			if !ok || len(list) == 0 {
				return false
			}
			for _, e := range list {
				name, ok := e.(string)
				if !ok || name != "x" {
					return false
				}
				if _, present := h[name]; !present {
					return false
				}
			}
		}
		kid := ""
		if raw, ok := h["kid"]; ok {
			if kid, ok = raw.(string); !ok {
				return false
			}
		}
		_, known := keys[kid]
		return known
	}

	f.Fuzz(func(t *testing.T, header string) {
		token := handSign(t, "HS256", header, payload, secret)
		if len(token) > defaultMaxTokenSize {
			return
		}
		for requireType, v := range verifiers {
			_, err := v.VerifyToken(t.Context(), token)
			if want := reference([]byte(header), requireType); (err == nil) != want {
				t.Fatalf("header %q, RequireType %q: verifier error %v, reference accepts: %v", header, requireType, err, want)
			}
		}
	})
}
