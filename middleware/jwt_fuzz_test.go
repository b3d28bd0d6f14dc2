package middleware

import (
	"errors"
	"os"
	"strings"
	"testing"
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
	cfg.StaticKeys["hs"] = k.hmac
	cfg.UnderstoodCritical = []string{"x"}
	cfg.MaxTokenSize = 4096
	v, err := NewJWTVerifier(f.Context(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	names := DefaultClaimNames()
	claimNames := []string{"iss", "sub", "jti", "aud", "iat", "exp", "azp", names.Patient, names.Encounter,
		names.FHIRContext, names.FHIRUser, names.NeedPatientBanner, names.SmartStyleURL, names.Intent,
		names.Tenant, names.Scope, names.ClientID, names.GrantID}

	f.Fuzz(func(t *testing.T, token string) {
		lc, err := v.VerifyToken(t.Context(), token)
		if err == nil {
			if lc == nil {
				t.Fatal("nil LaunchContext without error")
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
