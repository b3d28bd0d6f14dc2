package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/smartauth/smartauth/tokenstore/internal/testenv"
)

// TestPostgresServer starts a throwaway server and takes it through
// Pause, Resume, Stop and Start.
func TestPostgresServer(t *testing.T) {
	url, srv := testenv.StartPostgres(t)
	require.Equal(t, url, srv.URL())

	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	query := func(conn *pgx.Conn, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		var n int
		return conn.QueryRow(ctx, "SELECT 1").Scan(&n)
	}
	require.NoError(t, query(conn, 5*time.Second))

	// Paused: the connection stays open, nothing answers.
	srv.Pause()
	require.Error(t, query(conn, 200*time.Millisecond), "a paused server does not answer")
	srv.Resume()
	// pgx closed the connection whose query timed out.
	conn2, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err, "the resumed server accepts connections")
	require.NoError(t, query(conn2, 5*time.Second))

	srv.Stop()
	require.Error(t, query(conn2, 5*time.Second), "the stopped server closed its connections")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err = pgx.Connect(ctx, url)
	require.Error(t, err, "a stopped server refuses connections")

	srv.Start()
	conn3, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err, "the restarted server accepts connections")
	require.NoError(t, query(conn3, 5*time.Second))
	require.NoError(t, conn3.Close(t.Context()))
	_ = conn2.Close(context.Background())
}
