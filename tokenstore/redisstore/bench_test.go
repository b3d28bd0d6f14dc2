package redisstore_test

import (
	"testing"

	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// BenchmarkRotate measures one rotation: one script run, one round trip.
func BenchmarkRotate(b *testing.B) { storetest.BenchmarkRotate(b, newStore(b, newClient(b, nil))) }
