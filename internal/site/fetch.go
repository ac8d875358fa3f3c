package site

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
)

// response is one answer of the handler. A body worth keeping (a page, a file, or the
// tombstone of a withdrawn entry) streams into a temporary file in the site, so that an
// export of any size costs no memory; any other body is dropped.
type response struct {
	dir    string // where the temporary file goes
	header http.Header
	status int
	tmp    *os.File
	err    error
}

func (r *response) Header() http.Header { return r.header }

func (r *response) WriteHeader(code int) {
	if r.status != 0 || code < 200 {
		return
	}
	r.status = code
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	// 410 Gone is the tombstone of an entry the data office withdrew: a public page that
	// the transparency log's page still links to.
	if code == http.StatusOK || (code == http.StatusGone && mt == "text/html") {
		r.tmp, r.err = os.CreateTemp(r.dir, ".part-")
	}
}

// discard removes the temporary file, unless it was moved into the site.
func (r *response) discard() {
	if r != nil && r.tmp != nil {
		_ = r.tmp.Close()
		_ = os.Remove(r.tmp.Name())
	}
}

func (r *response) Write(p []byte) (int, error) {
	if r.status == 0 {
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", http.DetectContentType(p))
		}
		r.WriteHeader(http.StatusOK)
	}
	switch {
	case r.err != nil:
		return 0, r.err
	case r.tmp == nil:
		return len(p), nil
	}
	n, err := r.tmp.Write(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

// get asks the handler for key with a GET from an anonymous visitor on this machine: no
// cookie, so no session, no flash, no language choice other than the address's.
func (b *builder) get(ctx context.Context, key string) (res *response, err error) {
	res = &response{dir: b.root, header: http.Header{}}
	u, err := url.Parse(key)
	if err != nil {
		return res, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "", nil)
	if err != nil {
		return res, err
	}
	req.URL, req.RequestURI, req.Host, req.RemoteAddr = u, key, "localhost", "127.0.0.1:0"
	defer func() {
		// An export that fails after its first byte aborts the answer (http.ErrAbortHandler),
		// so that no client takes a truncated file for a complete one; neither will the site.
		if v := recover(); v != nil {
			err = fmt.Errorf("the answer was aborted: %v", v)
		}
		if err == nil {
			err = res.err
		}
		if err == nil && res.status == 0 {
			res.WriteHeader(http.StatusOK) // an empty answer, like net/http's
			err = res.err
		}
	}()
	b.opts.Handler.ServeHTTP(res, req)
	return res, nil
}
