package pgstore_test

import (
	"testing"

	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// BenchmarkRotate measures one rotation: one statement, one round trip.
func BenchmarkRotate(b *testing.B) { storetest.BenchmarkRotate(b, newStore(b, newPool(b, nil))) }

// BenchmarkRedeemCode measures one redemption of a code: one statement,
// one round trip.
func BenchmarkRedeemCode(b *testing.B) {
	storetest.BenchmarkRedeemCode(b, newStore(b, newPool(b, nil)))
}
