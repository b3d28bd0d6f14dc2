package pgstore

import (
	"context"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
)

// TransactionalOnly returns s with Rotate and RedeemCode always taking
// their transactional paths, which production code only takes when the
// one-statement path does not apply: the conformance suites then cover
// every rule on those paths.
func TransactionalOnly(s *Store) interface {
	tokenstore.Store
	tokenstore.CodeStore
} {
	return txOnly{s}
}

type txOnly struct{ *Store }

func (s txOnly) RedeemCode(ctx context.Context, req tokenstore.RedeemRequest) (tokenstore.RedeemResult, error) {
	if err := req.Validate(); err != nil {
		return tokenstore.RedeemResult{}, err
	}
	req.Now = req.Now.Truncate(time.Microsecond)
	return s.redeemTx(ctx, req)
}

func (s txOnly) Rotate(ctx context.Context, req tokenstore.RotateRequest) (tokenstore.RotateResult, error) {
	return s.rotateTx(ctx, req, req.Now.Truncate(time.Microsecond))
}
