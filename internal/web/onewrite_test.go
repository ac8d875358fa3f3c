package web

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// countingListener counts the writes made to the connections it accepts.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestWriteWholeOneWrite: over a OneWriteListener, a response larger than the server's
// buffers leaves in one write, keep-alive goes on working, HEAD sends no body; without
// WriteWhole the same response takes more than one write, which is what this is for.
func TestWriteWholeOneWrite(t *testing.T) {
	page := bytes.Repeat([]byte("<p>Una fitxa prou llarga per a diverses escriptures.</p>\n"), 400) // 23 KB
	send := func(whole bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(page)))
			if whole {
				WriteWhole(w, r, http.StatusOK, page)
				return
			}
			_, _ = w.Write(page)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/whole", send(true))
	mux.Handle("/plain", send(false))

	var writes atomic.Int64
	hs := httptest.NewUnstartedServer(RequestLog(slog.New(slog.DiscardHandler))(mux))
	hs.Listener = OneWriteListener(countingListener{hs.Listener, &writes})
	hs.Config.ConnContext = OneWriteConnContext
	hs.Start()
	defer hs.Close()

	client := hs.Client()
	client.Transport.(*http.Transport).MaxConnsPerHost = 1 // every request on one connection
	fetch := func(method, path string) (int64, []byte) {
		t.Helper()
		before := writes.Load()
		req, _ := http.NewRequest(method, hs.URL+path, nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, err)
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", method, path)
		}
		return writes.Load() - before, body
	}
	for i := range 3 {
		n, body := fetch(http.MethodGet, "/whole")
		if !bytes.Equal(body, page) {
			t.Fatalf("request %d: got %d bytes, not the page's %d", i, len(body), len(page))
		}
		if n != 1 {
			t.Errorf("request %d: %d writes, want 1", i, n)
		}
	}
	if n, body := fetch(http.MethodHead, "/whole"); n != 1 || len(body) != 0 {
		t.Errorf("HEAD: %d writes, %d bytes of body; want 1 and none", n, len(body))
	}
	if n, body := fetch(http.MethodGet, "/plain"); n < 2 || !bytes.Equal(body, page) {
		t.Errorf("without WriteWhole: %d writes (the test expects the server's own 2 or more)", n)
	}
	if n, body := fetch(http.MethodGet, "/whole"); n != 1 || !bytes.Equal(body, page) {
		t.Errorf("after a response written the usual way: %d writes, want 1", n)
	}
}

// TestWriteWholeElsewhere: without a OneWriteListener (a recorder here), WriteWhole writes
// the usual way.
func TestWriteWholeElsewhere(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		w := httptest.NewRecorder()
		WriteWhole(w, httptest.NewRequest(method, "/", nil), http.StatusCreated, []byte("made"))
		want := "made"
		if method == http.MethodHead {
			want = ""
		}
		if w.Code != http.StatusCreated || w.Body.String() != want {
			t.Errorf("%s: %d %q, want 201 %q", method, w.Code, w.Body.String(), want)
		}
	}
}
