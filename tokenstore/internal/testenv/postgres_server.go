//go:build linux

package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresStartTimeout bounds how long StartPostgres and Start wait for the
// server to accept connections.
const postgresStartTimeout = 30 * time.Second

// PostgresServer is a throwaway PostgreSQL cluster of one test: its data
// directory is in the test's temporary directory, it listens on a free
// port of 127.0.0.1 only, and it is stopped and killed when the test ends.
// Fault tests use it to pause, stop and restart a server without touching
// the shared one.
//
// The postmaster runs in a process group of its own; each of its children
// (backends, background processes) makes itself the leader of another one
// (PostgreSQL calls setsid). Pause, Resume and cleanup therefore signal the
// postmaster's group and the group of each of its children, found by their
// parent PID in /proc: every process is signalled by its ID.
type PostgresServer struct {
	t       testing.TB
	bin     string // directory of initdb and postgres
	dataDir string
	logPath string
	port    int
	cred    *syscall.Credential // the postgres user's, when running as root

	mu     sync.Mutex
	cmd    *exec.Cmd     // the running postmaster, or nil
	exited chan struct{} // closed when cmd has been waited for
}

// StartPostgres creates a cluster in t.TempDir() (initdb, trust
// authentication, fsync off), starts it on a free loopback port and
// returns the URL of its "postgres" database (user "postgres") and the
// server. Tests running as root (CI) run the server as the system user
// "postgres", which initdb requires. If the PostgreSQL binaries (found in
// $SMARTAUTH_POSTGRES_BIN, on PATH, or in the newest
// /usr/lib/postgresql/*/bin) or that user are missing, the test is skipped,
// or fails if SMARTAUTH_REQUIRE_SERVICES=1.
func StartPostgres(t testing.TB) (string, *PostgresServer) {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		missing(t, err)
	}
	s := &PostgresServer{t: t, bin: bin}
	if os.Geteuid() == 0 {
		s.cred, err = postgresCredential()
		if err != nil {
			missing(t, err)
		}
	}

	dir := t.TempDir()
	s.dataDir = filepath.Join(dir, "data")
	s.logPath = filepath.Join(dir, "postgres.log")
	if err := s.prepareDir(dir); err != nil {
		t.Fatalf("postgres server: %v", err)
	}
	initdb := s.command(filepath.Join(bin, "initdb"), "-D", s.dataDir, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("postgres server: initdb: %v\n%s", err, out)
	}
	s.port, err = freePort()
	if err != nil {
		t.Fatalf("postgres server: %v", err)
	}
	t.Cleanup(s.kill)
	s.Start()
	return s.URL(), s
}

// URL returns the URL of the server's "postgres" database.
func (s *PostgresServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Addr returns the host:port the server listens on.
func (s *PostgresServer) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Start starts the server (again, after Stop) and waits until it accepts
// connections. It fails the test if the server is running or does not
// come up.
func (s *PostgresServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatalf("postgres server: Start: already running")
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatalf("postgres server: %v", err)
	}
	defer logFile.Close()
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", s.dataDir,
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=50",
		"-c", "shared_buffers=16MB")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("postgres server: %v", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(s.exited)

	if err := s.waitReady(); err != nil {
		s.killLocked()
		log, _ := os.ReadFile(s.logPath)
		s.t.Fatalf("postgres server: %v\n%s", err, log)
	}
}

// Stop shuts the server down (fast shutdown: connections are closed, open
// transactions rolled back) and waits for it to exit; a paused server is
// resumed first. After 10 s it is killed.
func (s *PostgresServer) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.signalAll(syscall.SIGCONT)
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.t.Logf("postgres server: no shutdown after 10 s; killing it")
	}
	s.killLocked()
}

// Pause stops (SIGSTOP) the postmaster and every backend: connections stay
// open but nothing answers, like a server that hangs. Resume undoes it.
func (s *PostgresServer) Pause() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("postgres server: Pause: not running")
	}
	s.signalAll(syscall.SIGSTOP)
}

// Resume continues (SIGCONT) a paused server.
func (s *PostgresServer) Resume() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("postgres server: Resume: not running")
	}
	s.signalAll(syscall.SIGCONT)
}

// signalAll sends sig to the postmaster's process group first (so that it
// forks no new child meanwhile if sig stops it), then to the group of each
// of its children. s.mu must be held and the server running.
func (s *PostgresServer) signalAll(sig syscall.Signal) {
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, sig)
	for _, child := range childPIDs(pid) {
		_ = syscall.Kill(-child, sig)
		_ = syscall.Kill(child, sig) // in case it has not called setsid yet
	}
}

// kill kills the server, if it runs. It is the cleanup of StartPostgres.
func (s *PostgresServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

// killLocked kills the postmaster and its children, by their IDs, and waits
// for the postmaster to exit. The children are killed first, while the
// stopped postmaster is still their parent. s.mu must be held.
func (s *PostgresServer) killLocked() {
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGSTOP)
	for _, child := range childPIDs(pid) {
		_ = syscall.Kill(-child, syscall.SIGKILL)
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// childPIDs returns the IDs of the processes whose parent is pid, read
// from /proc.
func childPIDs(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var children []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			children = append(children, child)
		}
	}
	return children
}

// waitReady waits until the server answers a query, or exits. s.mu must
// be held.
func (s *PostgresServer) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), postgresStartTimeout)
	defer cancel()
	var last error
	for {
		select {
		case <-s.exited:
			return errors.New("exited during startup")
		default:
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(attempt, s.URL())
		if err == nil {
			err = conn.Ping(attempt)
			_ = conn.Close(context.Background())
		}
		cancelAttempt()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", postgresStartTimeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// command returns cmd args, to run in a process group of its own as the
// postgres user when running as root.
func (s *PostgresServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	return cmd
}

// prepareDir makes dir usable by the server's user: when running as root,
// the test's temporary directories (mode 0700) become traversable and dir
// is given to the postgres user.
func (s *PostgresServer) prepareDir(dir string) error {
	if s.cred == nil {
		return nil
	}
	root := filepath.Clean(os.TempDir())
	for d := dir; d != root && d != filepath.Dir(d); d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			return err
		}
		if err := os.Chmod(d, info.Mode().Perm()|0o011); err != nil {
			return err
		}
	}
	return os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid))
}

// postgresBin finds the directory of initdb and postgres.
func postgresBin() (string, error) {
	if dir := os.Getenv(PostgresBinEnv); dir != "" {
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("initdb not found")
}

// pgVersion is the major version in a /usr/lib/postgresql/<v>/bin path.
func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// postgresCredential returns the credential of the system user
// "postgres": initdb and postgres refuse to run as root.
func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
