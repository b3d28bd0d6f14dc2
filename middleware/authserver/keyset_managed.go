package authserver

import (
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidKeySet is wrapped by the errors of SetKeys, ParseKeySet,
// LoadKeySetFile, Reload and ReloadFile for a set of keys that cannot be
// used as a whole: no active key or several, a key ID used twice or for
// another key than before, a malformed document, a key set file readable
// by others. Errors about one key also wrap ErrInvalidSigningKey. They
// name keys by index and key ID only, never by key material.
var ErrInvalidKeySet = errors.New("authserver: invalid key set")

// KeyStatus is the role of a key in a KeySet (ManagedKey.Status).
type KeyStatus string

// The key statuses.
const (
	// KeyNext: published (JWK Set) and accepted (AccessTokenVerifier), not
	// used to sign yet. A key is next until every instance publishes it.
	KeyNext KeyStatus = "next"
	// KeyActive: signs new tokens; published and accepted. Exactly one.
	KeyActive KeyStatus = "active"
	// KeyRetired: no longer signs; published and accepted until
	// ManagedKey.RetireAfter, for the tokens it signed.
	KeyRetired KeyStatus = "retired"
)

// ManagedKey is a signing key with its status in a KeySet (SetKeys), as a
// key set file describes it.
type ManagedKey struct {
	SigningKey
	// Status is the key's role. Required.
	Status KeyStatus
	// RetireAfter is when a retired key stops being published and
	// accepted: at least the time its last token expires. Required for
	// KeyRetired, zero for the others. A retired key whose time has
	// passed is dropped, as if it were absent.
	RetireAfter time.Time
}

// SetKeys replaces the keys of the set: exactly one KeyActive key, any
// number of KeyNext and KeyRetired keys, every key ID unique (a zero ID is
// the key's RFC 7638 thumbprint). It is atomic: on error the keys are
// unchanged. A key ID the set already holds must name the same key — a
// verifier that cached the old key under that ID would refuse the new
// one's tokens — or SetKeys fails. It logs (WithKeySetLogger), without
// failing, two unsafe changes: a previously active key that is no longer
// published (the tokens it signed are refused from now on), and an active
// key that was not published before (other instances and resource servers
// refuse its tokens until they have it).
//
// # Rotation across instances
//
// Instances that share a key set file (LoadKeySetFile, and WatchFile or
// ReloadFile on each instance) and a token store accept each other's
// tokens. Rotating the active key from A to B in four steps, each an edit
// of the file that every instance reloads, never leaves an instance signing
// with a key that another instance, or a resource server, does not accept:
//
//  1. Publish: add B with status "next". Every instance publishes B (JWK
//     Set) and accepts its tokens, and keeps signing with A.
//  2. Activate, once every instance has reloaded the file and the JWK Set
//     caches of resource servers have expired (the watch interval plus
//     JWKSMaxAge after step 1): make B "active" and A "retired" with
//     "retire_after" at least T + the watch interval + the longest access
//     token lifetime (TokenConfig.AccessTokenLifetime) + the verifiers'
//     leeway, where T is the time of this edit. Until every instance has
//     reloaded, some sign with A and some with B; all accept both.
//  3. Wait: A stays published and accepted until retire_after, when the
//     last token it signed has expired; then every instance drops it by
//     itself, without a reload.
//  4. Remove A from the file (tidying up; it changes nothing once
//     retire_after has passed).
//
// Removing a key before its time (a compromised key) is step 4 done early:
// its tokens are refused by each instance as soon as it reloads.
func (ks *KeySet) SetKeys(keys []ManagedKey) error {
	st, err := ks.buildState(keys)
	if err != nil {
		return err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old := ks.state.Load()
	if old != nil {
		if err := checkKeyChange(old, st, ks.now()); err != nil {
			return err
		}
	}
	ks.state.Store(st)
	if old != nil {
		ks.logKeyChange(old, st)
	}
	return nil
}

// buildState checks keys and prepares them as a new state; retired keys
// past their time are left out.
func (ks *KeySet) buildState(keys []ManagedKey) (*keyState, error) {
	now := ks.now()
	st := &keyState{}
	var ids []string
	for i, k := range keys {
		p, err := ks.prepare(k.SigningKey)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (kid %q): %w", ErrInvalidKeySet, i, k.ID, err)
		}
		if slices.Contains(ids, p.id) {
			return nil, fmt.Errorf("%w: key %d (kid %q): the key ID is used twice", ErrInvalidKeySet, i, p.id)
		}
		ids = append(ids, p.id)
		if k.Status != KeyRetired && !k.RetireAfter.IsZero() {
			return nil, fmt.Errorf("%w: key %d (kid %q): only a retired key has a retire time", ErrInvalidKeySet, i, p.id)
		}
		switch k.Status {
		case KeyActive:
			if st.active != nil {
				return nil, fmt.Errorf("%w: key %d (kid %q): more than one active key", ErrInvalidKeySet, i, p.id)
			}
			st.active = p
		case KeyNext:
			st.next = append(st.next, p)
		case KeyRetired:
			if k.RetireAfter.IsZero() {
				return nil, fmt.Errorf("%w: key %d (kid %q): a retired key needs a retire time", ErrInvalidKeySet, i, p.id)
			}
			if now.Before(k.RetireAfter) {
				st.retired = append(st.retired, retiredKey{key: p, until: k.RetireAfter})
			}
		default:
			return nil, fmt.Errorf("%w: key %d (kid %q): status must be next, active or retired", ErrInvalidKeySet, i, p.id)
		}
	}
	if st.active == nil {
		return nil, fmt.Errorf("%w: no active key", ErrInvalidKeySet)
	}
	return st, nil
}

// checkKeyChange refuses a key ID of the old state that names another key
// in the new one.
func checkKeyChange(old, st *keyState, now time.Time) error {
	for p := range st.accepted(now) {
		for q := range old.all() {
			if p.id == q.id && !p.sameKey(q) {
				return fmt.Errorf("%w: key ID %q already names another key", ErrInvalidKeySet, p.id)
			}
		}
	}
	return nil
}

// all yields every key of the state, retired keys past their time
// included.
func (st *keyState) all() iter.Seq[*preparedKey] {
	return func(yield func(*preparedKey) bool) {
		if !yield(st.active) {
			return
		}
		for _, n := range st.next {
			if !yield(n) {
				return
			}
		}
		for _, r := range st.retired {
			if !yield(r.key) {
				return
			}
		}
	}
}

// logKeyChange logs the new keys, if they differ from the old ones by ID,
// status or retire time, and warns about the unsafe changes of SetKeys.
func (ks *KeySet) logKeyChange(old, st *keyState) {
	if old.summary() == st.summary() {
		return
	}
	logger := ks.logger
	if logger == nil {
		logger = slog.Default()
	}
	now := ks.now()
	holds := func(s *keyState, id string) bool {
		for p := range s.accepted(now) {
			if p.id == id {
				return true
			}
		}
		return false
	}
	if !holds(st, old.active.id) {
		logger.Warn("authserver: the previously active signing key is no longer published; the tokens it signed are refused",
			slog.String("kid", old.active.id))
	}
	if st.active.id != old.active.id && !holds(old, st.active.id) {
		logger.Warn("authserver: a signing key became active without having been published as next; "+
			"other instances and resource servers refuse its tokens until they have it",
			slog.String("kid", st.active.id))
	}
	next, retired := []string{}, []string{}
	for _, n := range st.next {
		next = append(next, n.id)
	}
	for _, r := range st.retired {
		retired = append(retired, r.key.id)
	}
	logger.Info("authserver: signing keys set", slog.String("active", st.active.id),
		slog.Any("next", next), slog.Any("retired", retired))
}

// summary describes the state by key IDs, statuses and retire times.
func (st *keyState) summary() string {
	var b strings.Builder
	b.WriteString(strconv.Quote(st.active.id))
	for _, n := range st.next {
		b.WriteString(" next " + strconv.Quote(n.id))
	}
	for _, r := range st.retired {
		b.WriteString(" retired " + strconv.Quote(r.key.id) + " " + r.until.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}
