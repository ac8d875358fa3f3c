// Command baseline is the yardstick between nginx and the register in bench/run.sh: Go's
// HTTP server answering every request with one page held in memory, with no router, no
// middleware and no headers but the page's own. What it serves per second is the most the
// register could serve on the same machine with the same HTTP server.
//
//	baseline ADDR PAGE
package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: baseline ADDR PAGE")
		os.Exit(2)
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	length := strconv.Itoa(len(body))
	err = http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "baseline:", err)
	os.Exit(1)
}
