package server

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// ownerConn connects as the schema owner, to arrange what the application itself may not do
// (ageing a session, for instance).
func ownerConn(t *testing.T, app *testApp) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), app.ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
