package redisstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
	"github.com/smartauth/smartauth/tokenstore/storetest"
)

// TestCluster runs the store on a Redis Cluster of three masters of its
// own, started once for all its subtests and stopped when it ends.
func TestCluster(t *testing.T) {
	cluster := testenv.StartRedisCluster(t)
	c := cluster.Client(t, nil)

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) tokenstore.Store { return clusterStore(c) })
	})
	t.Run("ConcurrentInstances", func(t *testing.T) {
		c2 := cluster.Client(t, nil)
		prefix := clusterPrefix()
		storetest.RunConcurrentInstances(t, []tokenstore.Store{
			redisstore.New(c, redisstore.Options{Prefix: prefix}),
			redisstore.New(c2, redisstore.Options{Prefix: prefix}),
		}, 64)
	})
	t.Run("Codes", func(t *testing.T) {
		storetest.RunCodes(t, func(t *testing.T) storetest.FullStore { return clusterStore(c) })
	})
	t.Run("CodeInstances", func(t *testing.T) {
		c2 := cluster.Client(t, nil)
		prefix := clusterPrefix()
		storetest.RunCodeInstances(t, []storetest.FullStore{
			redisstore.New(c, redisstore.Options{Prefix: prefix}),
			redisstore.New(c2, redisstore.Options{Prefix: prefix}),
		}, 64)
	})
	t.Run("KeyLayout", func(t *testing.T) { testKeyLayout(t, c, clusterPrefix()) })
	t.Run("CodeKeyLayout", func(t *testing.T) { testCodeKeyLayout(t, c, clusterPrefix()) })
	t.Run("KeySplit", func(t *testing.T) { testKeySplit(t, c) })
	t.Run("MigrateLegacyKeys", func(t *testing.T) { testMigrate(t, c, clusterPrefix()) })
}

// clusterPrefix returns a prefix of the test's own on the test cluster,
// whose keys are not deleted: the cluster is.
func clusterPrefix() string { return testenv.UniqueName("smartauth-test:") + ":" }

func clusterStore(c *redis.ClusterClient) *redisstore.Store {
	return redisstore.New(c, redisstore.Options{Prefix: clusterPrefix()})
}

// splitFamilies is the number of families testKeySplit creates.
const splitFamilies = 10_000

// testKeySplit creates splitFamilies families and counts their grant keys
// on each master: the families are spread over the masters, each holding
// at least a quarter of them (a third expected).
func testKeySplit(t *testing.T, c *redis.ClusterClient) {
	prefix := clusterPrefix()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	now := time.Now().UTC().Truncate(time.Millisecond)

	eg, ctx := errgroup.WithContext(t.Context())
	eg.SetLimit(16)
	for range splitFamilies {
		eg.Go(func() error {
			g := storetest.NewGrant(now)
			return s.CreateGrant(ctx, g, storetest.FirstToken(g))
		})
	}
	require.NoError(t, eg.Wait())

	var (
		mu       sync.Mutex
		perNode  = make(map[string]int)
		allKeys  atomic.Int64
		patterns = prefix + "{*}:g"
	)
	err := c.ForEachMaster(t.Context(), func(ctx context.Context, node *redis.Client) error {
		grants, err := scanNode(ctx, node, patterns)
		if err != nil {
			return err
		}
		all, err := scanNode(ctx, node, prefix+"*")
		if err != nil {
			return err
		}
		allKeys.Add(int64(len(all)))
		mu.Lock()
		perNode[node.Options().Addr] = len(grants)
		mu.Unlock()
		return nil
	})
	require.NoError(t, err)

	require.Len(t, perNode, testenv.ClusterMasters)
	total := 0
	for addr, n := range perNode {
		total += n
		t.Logf("master %s: %d families (%.1f%%)", addr, n, 100*float64(n)/splitFamilies)
	}
	t.Logf("%d keys in all (grant, first token and index key of each family)", allKeys.Load())
	require.Equal(t, splitFamilies, total)
	require.EqualValues(t, 3*splitFamilies, allKeys.Load())
	for addr, n := range perNode {
		assert.GreaterOrEqual(t, n, splitFamilies/4, "families on %s", addr)
	}
}
