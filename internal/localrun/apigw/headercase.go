package apigw

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
)

// API Gateway hands a function the header names as the client spelled them (curl's
// "x-api-key", a Standard Webhooks sender's "webhook-id"); Go's HTTP server canonicalizes
// them ("X-Api-Key"). To build the same event, the API server's connections record the
// bytes they read, and the handler re-reads the head of the request it serves from that
// record. Requests on a connection are served one after another, so the record is a
// sequence of heads and bodies: the body of one request (Content-Length or chunked) is
// skipped before the head of the next is read. Whatever cannot be parsed turns the
// recording off for the connection, and the canonical names are used.

type recordingListener struct{ net.Listener }

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c}, nil
}

type connKey struct{}

// withConn is http.Server.ConnContext: it makes the connection reachable from requests.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

type recordingConn struct {
	net.Conn

	mu      sync.Mutex
	buf     []byte
	off     bool // recording failed or stopped
	skipN   int  // body bytes of the previous request still to skip
	chunked bool // the previous request's body is chunked and still to skip
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if !c.off {
			c.buf = append(c.buf, p[:n]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

// skipBody drops the previous request's body from the record; it reports false when
// the body has not been read completely yet.
func (c *recordingConn) skipBody() bool {
	if c.skipN > 0 {
		if len(c.buf) < c.skipN {
			return false
		}
		c.buf = c.buf[c.skipN:]
		c.skipN = 0
	}
	if c.chunked {
		n, ok := chunkedLength(c.buf)
		if !ok {
			return false
		}
		c.buf = c.buf[n:]
		c.chunked = false
	}
	return true
}

// headerNames returns the header names of the request now being served, as sent, keyed
// by their canonical form.
func (c *recordingConn) headerNames() (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || !c.skipBody() {
		c.stop()
		return nil, false
	}
	end := bytes.Index(c.buf, []byte("\r\n\r\n"))
	if end < 0 {
		c.stop()
		return nil, false
	}
	lines := strings.Split(string(c.buf[:end]), "\r\n")
	c.buf = c.buf[end+4:]
	names := map[string]string{}
	contentLength, chunked := 0, false
	for _, line := range lines[1:] {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue // obsolete line folding: a continuation
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			c.stop()
			return nil, false
		}
		canonical := textproto.CanonicalMIMEHeaderKey(name)
		if _, seen := names[canonical]; !seen {
			names[canonical] = name
		}
		value = strings.TrimSpace(value)
		switch canonical {
		case "Content-Length":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				c.stop()
				return nil, false
			}
			contentLength = n
		case "Transfer-Encoding":
			chunked = chunked || strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	if chunked {
		c.chunked = true
	} else {
		c.skipN = contentLength
	}
	return names, true
}

// bodyRead lets the record drop a body that the handler has read completely.
func (c *recordingConn) bodyRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.off {
		c.skipBody()
	}
}

func (c *recordingConn) stop() {
	c.off = true
	c.buf = nil
}

// chunkedLength returns the length of a complete chunked body (chunks, last chunk and
// trailers) at the start of b.
func chunkedLength(b []byte) (int, bool) {
	pos := 0
	for {
		eol := bytes.Index(b[pos:], []byte("\r\n"))
		if eol < 0 {
			return 0, false
		}
		sizeField, _, _ := strings.Cut(string(b[pos:pos+eol]), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeField), 16, 64)
		if err != nil || size < 0 {
			return 0, false
		}
		pos += eol + 2
		if size == 0 {
			// Trailers, then an empty line.
			for {
				eol := bytes.Index(b[pos:], []byte("\r\n"))
				if eol < 0 {
					return 0, false
				}
				pos += eol + 2
				if eol == 0 {
					return pos, true
				}
			}
		}
		if int64(len(b)-pos) < size+2 {
			return 0, false
		}
		pos += int(size) + 2
	}
}

// rawHeaderNames returns the request's header names as the client sent them, keyed by
// canonical name (nil when unknown).
func rawHeaderNames(r *http.Request) map[string]string {
	if r.ProtoMajor != 1 {
		return nil
	}
	c, ok := r.Context().Value(connKey{}).(*recordingConn)
	if !ok {
		return nil
	}
	names, ok := c.headerNames()
	if !ok {
		return nil
	}
	return names
}

// requestBodyRead tells the connection record that the request's body has been read.
func requestBodyRead(r *http.Request) {
	if c, ok := r.Context().Value(connKey{}).(*recordingConn); ok {
		c.bodyRead()
	}
}
