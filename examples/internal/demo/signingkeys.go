package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// signingKeys returns the demo's signing keys: those of the key set file
// at path, followed (re-read every authserver.DefaultKeySetWatchInterval)
// until ctx ends, or, without a file, a key of alg (RS256 if empty)
// generated now.
func signingKeys(ctx context.Context, path, alg string, now func() time.Time, logger *slog.Logger) (*authserver.KeySet, error) {
	if path == "" {
		if alg == "" {
			alg = "RS256"
		}
		key, err := authserver.GenerateSigningKey(alg)
		if err != nil {
			return nil, err
		}
		return authserver.NewKeySet(key, authserver.WithKeySetClock(now))
	}
	keys, err := authserver.LoadKeySetFile(path, authserver.WithKeySetClock(now), authserver.WithKeySetLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("demo: signing keys: %w", err)
	}
	if alg != "" {
		logger.Info("signing_algorithm is ignored: the signing keys come from the key set file", "path", path)
	}
	logger.Info("signing keys loaded", "path", path, "active", keys.ActiveKeyID())
	go keys.WatchFile(ctx, path, 0)
	return keys, nil
}
