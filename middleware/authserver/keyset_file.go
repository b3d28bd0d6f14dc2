package authserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"
)

// Limits of key set files.
const (
	// maxKeySetFileSize bounds a key set file.
	maxKeySetFileSize = 1 << 20
	// DefaultKeySetWatchInterval is how often WatchFile reads the file
	// when its interval is zero or negative.
	DefaultKeySetWatchInterval = 10 * time.Second
)

// ParseKeySet returns a KeySet holding the keys of a key set file whose
// content is data, with the given options (WithHMAC allows "oct" keys).
//
// A key set file is shared by every instance of the authorization server
// and lists its signing keys, each with a status (see SetKeys for the
// statuses and the rotation procedure). It is either
//
//   - a JWK Set (RFC 7517) whose keys carry their private members (RFC 7518
//     §6: RSA n, e, d, p, q — dp, dq and qi are recomputed; EC crv, x, y,
//     d; OKP Ed25519 x, d; oct k) and the members "status" ("next",
//     "active" or "retired"; absent: "active") and "retire_after" (an RFC
//     3339 time, retired keys only); "kid" (absent: the RFC 7638
//     thumbprint), "alg" (absent: from the curve for EC and OKP keys,
//     RS256 for RSA; required for oct), "use" ("sig" if present) and
//     "key_ops" (with "sign" if present) are read, other members ignored
//     (MarshalKeySet writes this form);
//   - or PEM blocks, one per key: unencrypted PKCS #8 ("PRIVATE KEY"),
//     PKCS #1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"), with the
//     optional headers "kid", "alg", "status" and "retire_after" (same
//     meanings and defaults), written after the BEGIN line and followed by
//     an empty line (RFC 1421 headers). Text between blocks is ignored.
//
// A key set in the middle of a rotation, as a JWK Set:
//
//	{"keys": [
//	  {"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "d": "…",
//	   "kid": "2025-09", "alg": "ES256", "status": "next"},
//	  {"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "d": "…",
//	   "kid": "2025-06", "alg": "ES256", "status": "active"}
//	]}
//
// and as PEM:
//
//	-----BEGIN PRIVATE KEY-----
//	kid: 2025-09
//	status: next
//
//	MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg…
//	-----END PRIVATE KEY-----
//	-----BEGIN PRIVATE KEY-----
//	kid: 2025-06
//	status: active
//
//	MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg…
//	-----END PRIVATE KEY-----
//
// Errors wrap ErrInvalidKeySet and name a key by its index and kid only.
func ParseKeySet(data []byte, opts ...KeySetOption) (*KeySet, error) {
	keys, err := parseKeySetFile(data)
	if err != nil {
		return nil, err
	}
	ks := &KeySet{now: time.Now}
	for _, opt := range opts {
		opt(ks)
	}
	st, err := ks.buildState(keys)
	if err != nil {
		return nil, err
	}
	ks.state.Store(st)
	return ks, nil
}

// LoadKeySetFile reads the key set file at path (see ParseKeySet) and
// returns its KeySet. On systems other than Windows the file must be a
// regular file (symbolic links are followed) that neither others nor its
// group may write and others may not read: mode 0600, 0400, 0640 or 0440,
// as a Kubernetes secret volume with defaultMode 0400 or 0440 provides. It
// may be at most 1 MiB.
func LoadKeySetFile(path string, opts ...KeySetOption) (*KeySet, error) {
	data, err := readKeySetFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := ParseKeySet(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return ks, nil
}

// Reload replaces the keys of ks with those of a key set file whose content
// is data (see ParseKeySet and SetKeys). On error the keys are unchanged.
func (ks *KeySet) Reload(data []byte) error {
	keys, err := parseKeySetFile(data)
	if err != nil {
		return err
	}
	return ks.SetKeys(keys)
}

// ReloadFile is Reload of the key set file at path, read as LoadKeySetFile
// reads it.
func (ks *KeySet) ReloadFile(path string) error {
	data, err := readKeySetFile(path)
	if err != nil {
		return err
	}
	if err := ks.Reload(data); err != nil {
		return fmt.Errorf("%w (file %s)", err, path)
	}
	return nil
}

// WatchFile keeps ks in step with the key set file at path until ctx ends:
// it reads the file at once and then every interval
// (DefaultKeySetWatchInterval if interval is not positive), and reloads it
// (ReloadFile) whenever its content changed. A file that cannot be read or
// used leaves the current keys in use and is logged at Error, once for each
// distinct failure, through the KeySet's logger (WithKeySetLogger); a
// reload is logged at Info with the key IDs and statuses. Run it in its own
// goroutine:
//
//	go keys.WatchFile(ctx, "/etc/smartauth/signing-keys.json", 0)
//
// The interval is part of the rotation procedure of SetKeys: a change of
// the file reaches every instance within one interval.
func (ks *KeySet) WatchFile(ctx context.Context, path string, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultKeySetWatchInterval
	}
	logger := ks.logger
	if logger == nil {
		logger = slog.Default()
	}
	var (
		last    [sha256.Size]byte
		loaded  bool
		lastErr string
	)
	check := func() {
		data, err := readKeySetFile(path)
		if err == nil {
			sum := sha256.Sum256(data)
			if loaded && sum == last {
				return // unchanged, or the content that failed before
			}
			last, loaded = sum, true
			if err = ks.Reload(data); err != nil {
				err = fmt.Errorf("%w (file %s)", err, path)
			}
		}
		if err != nil {
			if err.Error() != lastErr {
				logger.ErrorContext(ctx, "authserver: key set file not loaded; the current signing keys stay in use",
					slog.String("path", path), slog.Any("error", err))
			}
			lastErr = err.Error()
			return
		}
		lastErr = ""
	}
	check()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

// parseKeySetFile parses a key set file in either form.
func parseKeySetFile(data []byte) ([]ManagedKey, error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '{':
		return parseJWKKeySet(data)
	case bytes.Contains(data, []byte("-----BEGIN")):
		return parsePEMKeySet(data)
	}
	return nil, fmt.Errorf("%w: neither a JWK Set nor PEM", ErrInvalidKeySet)
}

// readKeySetFile reads a key set file, checking its type, mode and size.
func readKeySetFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("authserver: key set file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("authserver: key set file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidKeySet, path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o027 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: others may read it or its group may write it (chmod 600)",
			ErrInvalidKeySet, path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeySetFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("authserver: key set file %s: %w", path, err)
	}
	if len(data) > maxKeySetFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidKeySet, path, maxKeySetFileSize)
	}
	return data, nil
}
