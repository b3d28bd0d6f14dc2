package endpointtest

import (
	"encoding/json"
	"net/http"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smartauth/smartauth/tokenstore"
	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
	"github.com/smartauth/smartauth/tokenstore/redisstore"
)

// Clients is the number of concurrent clients of
// BenchmarkHandlerRefreshParallel (at least; rounded up to a multiple of
// GOMAXPROCS).
const Clients = 16

// BenchmarkHandlerRefreshParallel measures full refresh requests through
// the token handler (client_secret_basic client, ES256 access and ID
// tokens) with Clients concurrent clients, each refreshing its own token
// chain, for each store. It reports refreshes per second.
func BenchmarkHandlerRefreshParallel(b *testing.B) {
	stores := []struct {
		name     string
		newStore func(b *testing.B) tokenstore.Store
	}{
		{"Memory", func(*testing.B) tokenstore.Store {
			return tokenstore.NewMemoryStore(tokenstore.MemoryOptions{})
		}},
		{"Redis", func(b *testing.B) tokenstore.Store {
			c := testenv.RedisClient(b, nil)
			return redisstore.New(c, redisstore.Options{Prefix: testenv.RedisPrefix(b, c)})
		}},
		{"PostgreSQL", func(b *testing.B) tokenstore.Store {
			// A connection per client.
			return pgStore(b, func(cfg *pgxpool.Config) { cfg.MaxConns = Clients })
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			h := newHandler(b, st.newStore(b))
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((Clients + procs - 1) / procs)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rt := newGrantOrError(b, h)
				var resp tokenResponse
				for pb.Next() {
					rec := refresh(h, rt)
					if rec.Code != http.StatusOK {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
					if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
						b.Error(err)
						return
					}
					rt = resp.RefreshToken
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "refreshes/s")
		})
	}
}
