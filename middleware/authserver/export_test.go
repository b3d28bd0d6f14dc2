package authserver

import (
	"errors"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// FailNextSign makes the next signature of ks fail, for the tests of the
// external package; restore puts the key back.
func FailNextSign(ks *KeySet) (restore func()) {
	st := ks.state.Load()
	p := *st.active
	m := &failOnceMethod{SigningMethod: p.method}
	m.fail.Store(true)
	p.method = m
	ks.state.Store(&keyState{active: &p, retired: st.retired})
	return func() { ks.state.Store(st) }
}

// failOnceMethod is a jwt.SigningMethod whose first Sign fails.
type failOnceMethod struct {
	jwt.SigningMethod
	fail atomic.Bool
}

func (m *failOnceMethod) Sign(signingString string, key any) ([]byte, error) {
	if m.fail.CompareAndSwap(true, false) {
		return nil, errors.New("test: signing failed")
	}
	return m.SigningMethod.Sign(signingString, key)
}

// DefaultCapabilitiesForTest exposes defaultCapabilities to the tests of
// package authserver_test.
var DefaultCapabilitiesForTest = defaultCapabilities
