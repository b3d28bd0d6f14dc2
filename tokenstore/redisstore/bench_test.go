package redisstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/smartauth/smartauth/tokenstore"
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

// BenchmarkRedeemCode measures one redemption of a code (one script run,
// one round trip) on the shared test Redis.
func BenchmarkRedeemCode(b *testing.B) {
	storetest.BenchmarkRedeemCode(b, newStore(b, newClient(b, nil)))
}

// BenchmarkRotateClusterVsNode alternates one rotation on a single
// redis-server and one on a three-master Cluster (each its own), so that
// both see the same load on a shared machine, and reports the median time
// of each and their ratio (x-node: the Cluster's median over the node's).
func BenchmarkRotateClusterVsNode(b *testing.B) {
	node := testenv.StartRedis(b)
	cluster := testenv.StartRedisCluster(b)
	stores := [2]tokenstore.Store{
		redisstore.New(node.Client(b, nil), redisstore.Options{}),
		clusterStore(cluster.Client(b, nil)),
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var refs [2]tokenstore.TokenRef
	for i, s := range stores {
		refs[i] = storetest.Ref(storetest.CreateFamily(b, s, storetest.NewGrant(now)))
		refs[i] = storetest.Ref(storetest.RequireRotate(b, s, refs[i], now).Token) // loads the script
	}
	var times [2][]time.Duration
	ctx := b.Context()
	n := 0
	rotate := func(i int) {
		n++
		req := tokenstore.RotateRequest{
			Presented: refs[i], Next: storetest.NewHash(), ClientID: storetest.ClientID,
			Now: now.Add(time.Duration(n) * time.Microsecond),
		}
		t0 := time.Now()
		res, err := stores[i].Rotate(ctx, req)
		times[i] = append(times[i], time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		refs[i] = storetest.Ref(res.Token)
	}
	b.ReportAllocs()
	for b.Loop() {
		first := n / 2 % 2 // alternate which goes first
		rotate(first)
		rotate(1 - first)
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	mn, mc := median(times[0]), median(times[1])
	b.ReportMetric(mn, "node-ns")
	b.ReportMetric(mc, "cluster-ns")
	b.ReportMetric(mc/mn, "x-node")
}
