package web

import (
	"context"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// One write per response.
//
// Go's HTTP/1 server writes a response through a 4 KiB buffer, so a page larger than that
// leaves in two write system calls: the header with the start of the body, then the rest.
// The client wakes up for each, and on a machine whose processors the server shares, that
// is time the server does not get. nginx hands the kernel a header and a file together
// (TCP_CORK and sendfile). Measured with wrk on the 2-core development machine, sending a
// 19 KB fact sheet in one write serves about a fifth more requests per second (README,
// Performance).
//
// A connection accepted by OneWriteListener can hold what the server writes to it and send
// it all at once; WriteWhole uses that for the cached public pages. A connection that did
// not come from OneWriteListener (tests with httptest's recorder, TLS) writes as usual.

// OneWriteListener returns ln with connections that can hold writes for WriteWhole. Serve
// it with http.Server.ConnContext set to OneWriteConnContext.
func OneWriteListener(ln net.Listener) net.Listener { return oneWriteListener{ln} }

type oneWriteListener struct{ net.Listener }

func (l oneWriteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &holdingConn{Conn: c}, nil
}

type connKey struct{}

// OneWriteConnContext is the http.Server.ConnContext of a server on a OneWriteListener: it
// lets WriteWhole find the connection of a request.
func OneWriteConnContext(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*holdingConn); ok {
		return context.WithValue(ctx, connKey{}, hc)
	}
	return ctx
}

// holdingConn is a connection that, while holding, keeps what is written to it and sends
// it with one write on release.
type holdingConn struct {
	net.Conn
	// mu guards the fields below. The server writes a response from one goroutine, the
	// handler's, but a handler may hand its ResponseWriter to another.
	mu      sync.Mutex
	holding bool
	held    *[]byte
}

// heldBuffers recycles the buffers of held writes, so that an idle connection keeps none.
var heldBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func (c *holdingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.holding {
		*c.held = append(*c.held, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *holdingConn) hold() {
	c.mu.Lock()
	c.holding = true
	c.held = heldBuffers.Get().(*[]byte)
	c.mu.Unlock()
}

// release sends what was held and stops holding.
func (c *holdingConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	var err error
	if len(*c.held) > 0 {
		_, err = c.Conn.Write(*c.held)
	}
	if cap(*c.held) <= 1<<20 { // an unusually large page is left to the collector
		*c.held = (*c.held)[:0]
		heldBuffers.Put(c.held)
	}
	c.held = nil
	return err
}

// CloseWrite half-closes the connection, as net/http does before closing one it refuses
// to read further from (it looks for this method on the connection).
func (c *holdingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// WriteWhole sends the status, the header and body as the whole response. On a connection
// from OneWriteListener they leave in one write; elsewhere, as the server writes them. The
// header must carry the Content-Length of body; for HEAD, body is not sent.
func WriteWhole(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	c, _ := r.Context().Value(connKey{}).(*holdingConn)
	if c == nil || r.ProtoMajor != 1 {
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		return
	}
	c.hold()
	// Deferred, so that a panic cannot leave the connection holding: a client that has
	// gone shows up as an error here, and the server finds out on its own next write.
	defer func() { _ = c.release() }()
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	// Flushing pushes what the server still buffers, the header or the end of the body,
	// into the held write.
	_ = http.NewResponseController(w).Flush()
}

// NewHTTPServer returns the HTTP server of the register for handler, to serve on a
// OneWriteListener: timeouts against slow clients (a header must arrive within 10 s, a
// body within a minute; an idle connection is closed after two), and errors to errorLog.
// bench/baseline serves with the same settings, so that it measures the same server.
func NewHTTPServer(handler http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ConnContext:       OneWriteConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Long enough for an export; the export handlers extend it as they stream.
		WriteTimeout: 120 * time.Second,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     errorLog,
	}
}
