package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServerBinary is the Redis server StartRedis and StartRedisCluster
// run, looked up in PATH.
const RedisServerBinary = "redis-server"

// StartTimeout bounds the start of a server started by a test (a
// redis-server answering PING, a cluster reporting cluster_state:ok).
const StartTimeout = 30 * time.Second

// startAttempts is how many times a server is started on new ports when
// the previous ones were taken in between.
const startAttempts = 5

// RedisServer is a redis-server process of the test's own, on a free port
// of 127.0.0.1, without persistence, in a temporary directory. Fault tests
// pause, resume and stop it; the shared test Redis is never touched.
type RedisServer struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	log  *bytes.Buffer // stdout and stderr of the process

	mu      sync.Mutex
	stopped bool
	exited  chan struct{} // closed when the process has exited
	waitErr error
}

// StartRedis starts a RedisServer, killed (by PID) when the test ends. It
// skips the test if redis-server is not installed, or fails it if
// SMARTAUTH_REQUIRE_SERVICES=1.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	return startRedis(t, false)
}

// startRedis starts a RedisServer, as a Cluster node if cluster is true
// (whose bus port, port + 10000, is free too).
func startRedis(t testing.TB, cluster bool) *RedisServer {
	t.Helper()
	bin := lookRedisServer(t)
	var lastErr error
	for range startAttempts {
		port, err := freeRedisPort(cluster)
		if err != nil {
			t.Fatalf("redis-server: %v", err)
		}
		s, err := launchRedis(t, bin, port, cluster)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("redis-server: %d attempts failed, last: %v", startAttempts, lastErr)
	return nil
}

// lookRedisServer returns the path of redis-server, or skips (fails) the
// test.
func lookRedisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath(RedisServerBinary)
	if err != nil {
		msg := "%s not installed (%v): install Debian's redis-server to run this test"
		if os.Getenv(RequireServicesEnv) == "1" {
			t.Fatalf(msg+" (%s=1: not skipping)", RedisServerBinary, err, RequireServicesEnv)
		}
		t.Skipf(msg, RedisServerBinary, err)
	}
	return bin
}

// freeRedisPort returns a port of 127.0.0.1 nothing listens on (and, if
// withBus, whose port + 10000 is free too). Another process may take it
// before the server binds it: callers retry on failure.
func freeRedisPort(withBus bool) (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if !withBus {
			_ = ln.Close()
			return port, nil
		}
		if port+10000 > 65535 {
			_ = ln.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = ln.Close()
		if err != nil {
			continue
		}
		_ = bus.Close()
		return port, nil
	}
	return 0, errors.New("no free pair of ports (port, port+10000)")
}

// launchRedis runs redis-server on port and waits until it answers PING.
// It returns an error (after killing the process) if the server exits or
// does not answer within StartTimeout.
func launchRedis(t testing.TB, bin string, port int, cluster bool) (*RedisServer, error) {
	t.Helper()
	dir := t.TempDir()
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
	}
	if cluster {
		args = append(args,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000",
		)
	}
	s := &RedisServer{
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:    dir,
		log:    new(bytes.Buffer),
		exited: make(chan struct{}),
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = &lockedWriter{mu: &s.mu, w: s.log}
	s.cmd.Stderr = s.cmd.Stdout
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		err := s.cmd.Wait()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(s.exited)
	}()
	t.Cleanup(s.Stop)

	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; log:\n%s", err, s.Log())
	}
	return s, nil
}

// waitReady polls the server with PING until it answers, exits, or
// StartTimeout passes.
func (s *RedisServer) waitReady() error {
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("redis-server on %s exited: %v", s.addr, s.waitErr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s not answering after %v: %v", s.addr, StartTimeout, err)
		}
	}
}

// Addr returns the host:port of the server.
func (s *RedisServer) Addr() string { return s.addr }

// PID returns the process ID of the server.
func (s *RedisServer) PID() int { return s.cmd.Process.Pid }

// Client returns a client of the server with ContextTimeoutEnabled, closed
// when the test ends. edit, if not nil, adjusts its options first.
func (s *RedisServer) Client(t testing.TB, edit func(*redis.Options)) *redis.Client {
	t.Helper()
	opts := &redis.Options{Addr: s.addr, ContextTimeoutEnabled: true}
	if edit != nil {
		edit(opts)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Pause stops the process (SIGSTOP): connections stay open, and what
// clients send waits in the kernel's buffers, unanswered. It returns
// errors.ErrUnsupported on systems other than Linux.
func (s *RedisServer) Pause() error { return s.signal(pauseSignal) }

// Resume continues a paused process (SIGCONT): it then reads and executes
// what was sent while it was paused.
func (s *RedisServer) Resume() error { return s.signal(resumeSignal) }

func (s *RedisServer) signal(sig os.Signal) error {
	if sig == nil {
		return errors.ErrUnsupported
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("redis-server stopped")
	}
	return s.cmd.Process.Signal(sig)
}

// Stop kills the process (SIGKILL, by PID, even if paused) and waits for
// it. It is safe to call more than once.
func (s *RedisServer) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Kill()
	s.mu.Unlock()
	<-s.exited
}

// Log returns what the process has written to its standard output and
// error.
func (s *RedisServer) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// lockedWriter serialises writes to w with mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
