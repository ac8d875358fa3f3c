package publish

import (
	"testing"

	"github.com/civictech/registry/internal/pgtest"
)

// TestMain gives the package's tests a private PostgreSQL (pgtest.NewDatabase).
func TestMain(m *testing.M) { pgtest.Main(m) }
