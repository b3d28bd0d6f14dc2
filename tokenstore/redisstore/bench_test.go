package redisstore_test

import (
	"testing"

	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// BenchmarkRotate measures one rotation (one script run, one round trip)
// on the shared test Redis, on a single redis-server of the benchmark's own
// and on a Cluster of three of them, started once for the sub-benchmarks.
func BenchmarkRotate(b *testing.B) {
	b.Run("SharedNode", func(b *testing.B) {
		storetest.BenchmarkRotate(b, newStore(b, newClient(b, nil)))
	})
	node := testenv.StartRedis(b)
	b.Run("OwnNode", func(b *testing.B) {
		storetest.BenchmarkRotate(b, redisstore.New(node.Client(b, nil), redisstore.Options{}))
	})
	cluster := testenv.StartRedisCluster(b)
	b.Run("Cluster", func(b *testing.B) {
		storetest.BenchmarkRotate(b, clusterStore(cluster.Client(b, nil)))
	})
}
