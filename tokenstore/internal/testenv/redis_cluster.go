package testenv

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterMasters is the number of masters of a RedisCluster.
const ClusterMasters = 3

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// RedisCluster is a Redis Cluster of the test's own: ClusterMasters
// redis-server processes (see RedisServer) on free ports of 127.0.0.1,
// without replicas, the slots split evenly between them.
type RedisCluster struct {
	nodes []*RedisServer
}

// StartRedisCluster starts a RedisCluster and waits until every node
// reports cluster_state:ok and knows every other one. Its processes are
// killed (by PID) when the test ends. It skips the test if redis-server is
// not installed, or fails it if SMARTAUTH_REQUIRE_SERVICES=1.
//
// The nodes are joined from Go (CLUSTER SET-CONFIG-EPOCH, ADDSLOTS, MEET),
// as redis-cli --cluster create would, without needing redis-cli.
func StartRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	c := &RedisCluster{}
	for range ClusterMasters {
		c.nodes = append(c.nodes, startRedis(t, true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := c.join(ctx); err != nil {
		t.Fatalf("redis cluster: %v%s", err, c.logs())
	}
	if err := c.waitOK(ctx); err != nil {
		t.Fatalf("redis cluster: %v%s", err, c.logs())
	}
	return c
}

// join assigns each node its share of the slots and introduces the nodes
// to the first one.
func (c *RedisCluster) join(ctx context.Context) error {
	per := clusterSlots / len(c.nodes)
	for i, n := range c.nodes {
		first, last := i*per, (i+1)*per-1
		if i == len(c.nodes)-1 {
			last = clusterSlots - 1
		}
		slots := make([]int, 0, last-first+1)
		for s := first; s <= last; s++ {
			slots = append(slots, s)
		}
		err := withNode(ctx, n, func(cl *redis.Client) error {
			if err := cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
				return fmt.Errorf("SET-CONFIG-EPOCH: %w", err)
			}
			if err := cl.ClusterAddSlots(ctx, slots...).Err(); err != nil {
				return fmt.Errorf("ADDSLOTS: %w", err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Addr(), err)
		}
	}
	return withNode(ctx, c.nodes[0], func(cl *redis.Client) error {
		for _, n := range c.nodes[1:] {
			host, port := splitAddr(n.Addr())
			if err := cl.ClusterMeet(ctx, host, port).Err(); err != nil {
				return fmt.Errorf("MEET %s: %w", n.Addr(), err)
			}
		}
		return nil
	})
}

// waitOK polls CLUSTER INFO on every node until all report
// cluster_state:ok, every slot assigned and every node known, or ctx ends.
func (c *RedisCluster) waitOK(ctx context.Context) error {
	want := map[string]string{
		"cluster_state":          "ok",
		"cluster_slots_assigned": strconv.Itoa(clusterSlots),
		"cluster_slots_ok":       strconv.Itoa(clusterSlots),
		"cluster_known_nodes":    strconv.Itoa(len(c.nodes)),
		"cluster_size":           strconv.Itoa(len(c.nodes)),
	}
	var last string
	for {
		ready := true
		for _, n := range c.nodes {
			var info string
			err := withNode(ctx, n, func(cl *redis.Client) error {
				var err error
				info, err = cl.ClusterInfo(ctx).Result()
				return err
			})
			if err != nil {
				return fmt.Errorf("CLUSTER INFO on %s: %w", n.Addr(), err)
			}
			if bad := mismatch(info, want); bad != "" {
				ready, last = false, n.Addr()+": "+bad
				break
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v (%s)", StartTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// mismatch returns the first field of a CLUSTER INFO reply that differs
// from want, as "field=value", or "".
func mismatch(info string, want map[string]string) string {
	got := make(map[string]string)
	for line := range strings.SplitSeq(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			return k + "=" + got[k]
		}
	}
	return ""
}

// withNode calls fn with a short-lived client of n.
func withNode(ctx context.Context, n *RedisServer, fn func(*redis.Client) error) error {
	cl := redis.NewClient(&redis.Options{Addr: n.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	defer cl.Close()
	return fn(cl)
}

func splitAddr(addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}

// logs returns the logs of the nodes, for failure messages.
func (c *RedisCluster) logs() string {
	var b strings.Builder
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "\n--- %s ---\n%s", n.Addr(), n.Log())
	}
	return b.String()
}

// Addrs returns the host:port of every node.
func (c *RedisCluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Nodes returns the nodes, for fault tests.
func (c *RedisCluster) Nodes() []*RedisServer { return c.nodes }

// Client returns a client of the cluster with ContextTimeoutEnabled,
// closed when the test ends. edit, if not nil, adjusts its options first.
func (c *RedisCluster) Client(t testing.TB, edit func(*redis.ClusterOptions)) *redis.ClusterClient {
	t.Helper()
	opts := &redis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true}
	if edit != nil {
		edit(opts)
	}
	cl := redis.NewClusterClient(opts)
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Stop kills every node. It is safe to call more than once.
func (c *RedisCluster) Stop() {
	for _, n := range c.nodes {
		n.Stop()
	}
}
