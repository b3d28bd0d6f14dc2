package pgstore_test

import (
	"testing"

	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// BenchmarkRotate measures one rotation: one statement, one round trip.
func BenchmarkRotate(b *testing.B) { storetest.BenchmarkRotate(b, newStore(b, newPool(b, nil))) }
