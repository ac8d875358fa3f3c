// Command baseline is the yardstick between nginx and the register in bench/run.sh: Go's
// HTTP server, configured as the register's (web.NewHTTPServer), answering every request
// with one response held in memory (the page and the header the register sent with it), in
// one write as the register does (web.WriteWhole), with no router and no middleware. What it serves per second is the most the register
// could serve on the same machine with the same HTTP server and the same header.
//
//	baseline ADDR PAGE HEADER
//
// HEADER is the response header as `curl -D` saved it; Date and Content-Length are the
// server's own.
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"

	"github.com/civictech/registry/internal/web"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: baseline ADDR PAGE HEADER")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(addr, pagePath, headerPath string) error {
	body, err := os.ReadFile(pagePath)
	if err != nil {
		return err
	}
	header, err := readHeader(headerPath)
	if err != nil {
		return err
	}
	header["Content-Length"] = []string{strconv.Itoa(len(body))}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := web.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for name, values := range header {
			h[name] = values
		}
		web.WriteWhole(w, r, http.StatusOK, body)
	}), nil)
	return srv.Serve(web.OneWriteListener(ln))
}

// readHeader reads a header saved by curl -D: a status line, then "Name: value" lines.
func readHeader(path string) (http.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header := http.Header{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimRight(sc.Text(), "\r"), ":")
		if !ok || strings.HasPrefix(name, "HTTP/") {
			continue
		}
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if name == "Date" || name == "Content-Length" {
			continue
		}
		header[name] = append(header[name], strings.TrimSpace(value))
	}
	return header, sc.Err()
}
