package pgstore

import (
	"context"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// TransactionalOnly returns s with Rotate always taking the transactional
// path, which production code only takes when the one-statement path does
// not apply: the conformance suite then covers every rule on that path.
func TransactionalOnly(s *Store) tokenstore.Store { return txOnly{s} }

type txOnly struct{ *Store }

func (s txOnly) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	return s.rotateTx(ctx, req, req.Now.Truncate(time.Microsecond))
}
