// crowdlens-rtsp-relay: a small RTSP server for development and tests, used
// when mediamtx cannot be built (see ../install.sh). It does what the tests
// need from a camera-side server and nothing else:
//
//   - a publisher (ffmpeg -f rtsp -rtsp_transport tcp) ANNOUNCEs an SDP and
//     RECORDs RTP over the RTSP connection (TCP interleaved);
//   - readers (cameras' consumers: ffmpeg -rtsp_transport tcp -i ...) DESCRIBE,
//     SETUP and PLAY the same path and receive the publisher's RTP and RTCP
//     packets unchanged (TCP interleaved, channels rewritten per reader);
//   - a path can require Basic authentication (wrong credentials: 401);
//   - a path with no publisher answers 404; when the publisher goes away every
//     reader of its path is disconnected, as a camera that drops would.
//
// UDP transport is refused (461): CrowdLens always asks for TCP.
// Only the Go standard library is used, so it builds offline.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type credential struct{ user, pass string }

type request struct {
	method  string
	rawURL  string
	headers map[string]string // lower-case keys
	body    []byte
}

func (r *request) header(name string) string { return r.headers[strings.ToLower(name)] }

type stream struct {
	path      string
	sdp       []byte
	controls  []string // a=control of each media, in order
	publisher *conn
	readers   map[*conn]struct{}
}

type server struct {
	mu      sync.Mutex
	streams map[string]*stream
	auth    map[string]credential
	verbose bool
}

type conn struct {
	nc      net.Conn
	br      *bufio.Reader
	out     chan []byte // serialised writes: responses and interleaved packets
	closed  chan struct{}
	once    sync.Once
	session string
	// Publisher: channel -> track index. Reader: track index -> its RTP channel.
	pubChannels map[int]int
	readChannel map[int]int
	path        string
	role        string // "", "publisher", "reader"
	playing     bool
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.closed)
		_ = c.nc.Close()
	})
}

// send queues bytes for the writer goroutine. A reader too slow to keep up is
// disconnected rather than allowed to hold up the publisher.
func (c *conn) send(b []byte) bool {
	select {
	case <-c.closed:
		return false
	default:
	}
	select {
	case c.out <- b:
		return true
	default:
		c.close()
		return false
	}
}

func (c *conn) writer() {
	for {
		select {
		case <-c.closed:
			return
		case b := <-c.out:
			_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.nc.Write(b); err != nil {
				c.close()
				return
			}
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8554", "address to listen on")
	authList := flag.String("auth", "", "comma-separated path=user:password entries; those paths need Basic auth")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()

	s := &server{streams: map[string]*stream{}, auth: map[string]credential{}, verbose: *verbose}
	if *authList != "" {
		for _, entry := range strings.Split(*authList, ",") {
			path, cred, ok := strings.Cut(strings.TrimSpace(entry), "=")
			user, pass, ok2 := strings.Cut(cred, ":")
			if !ok || !ok2 || path == "" {
				log.Fatalf("bad -auth entry %q: want path=user:password", entry)
			}
			s.auth[strings.Trim(path, "/")] = credential{user, pass}
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("listen %s: %v", *listen, err)
	}
	log.Printf("rtsp relay listening on %s", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		log.Printf("rtsp relay stopping")
		_ = ln.Close()
		os.Exit(0)
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Printf("accept: %v", err)
			continue
		}
		go s.serve(nc)
	}
}

func (s *server) serve(nc net.Conn) {
	c := &conn{
		nc:          nc,
		br:          bufio.NewReaderSize(nc, 64*1024),
		out:         make(chan []byte, 4096),
		closed:      make(chan struct{}),
		pubChannels: map[int]int{},
		readChannel: map[int]int{},
	}
	go c.writer()
	defer s.disconnect(c)
	for {
		first, err := c.br.Peek(1)
		if err != nil {
			return
		}
		if first[0] == '$' {
			var hdr [4]byte
			if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
				return
			}
			size := int(hdr[2])<<8 | int(hdr[3])
			payload := make([]byte, size)
			if _, err := io.ReadFull(c.br, payload); err != nil {
				return
			}
			if c.role == "publisher" {
				s.forward(c, int(hdr[1]), payload)
			}
			continue
		}
		req, err := readRequest(c.br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Printf("%s: bad request: %v", nc.RemoteAddr(), err)
			}
			return
		}
		if s.verbose {
			log.Printf("%s %s %s", nc.RemoteAddr(), req.method, redact(req.rawURL))
		}
		status, headers, body := s.handle(c, req)
		c.send(response(req, status, headers, body))
		if req.method == "TEARDOWN" {
			return
		}
	}
}

var redactRe = regexp.MustCompile(`//[^/@]*@`)

func redact(u string) string { return redactRe.ReplaceAllString(u, "//***@") }

func readRequest(br *bufio.Reader) (*request, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	parts := strings.Fields(line)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "RTSP/") {
		return nil, fmt.Errorf("not an RTSP request line: %q", strings.TrimSpace(line))
	}
	req := &request{method: parts[0], rawURL: parts[1], headers: map[string]string{}}
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		k, v, ok := strings.Cut(h, ":")
		if ok {
			req.headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if n, _ := strconv.Atoi(req.header("Content-Length")); n > 0 {
		if n > 1<<20 {
			return nil, fmt.Errorf("body too large: %d", n)
		}
		req.body = make([]byte, n)
		if _, err := io.ReadFull(br, req.body); err != nil {
			return nil, err
		}
	}
	return req, nil
}

var statusText = map[int]string{
	200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
	454: "Session Not Found", 455: "Method Not Valid in This State", 461: "Unsupported Transport",
}

func response(req *request, status int, headers map[string]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "RTSP/1.0 %d %s\r\n", status, statusText[status])
	fmt.Fprintf(&b, "CSeq: %s\r\n", req.header("CSeq"))
	fmt.Fprintf(&b, "Server: crowdlens-rtsp-relay\r\n")
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, headers[k])
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// urlPath returns the request path without slashes; "" for "*".
func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.Trim(u.Path, "/")
}

// resolve splits "cam1/streamid=0" into the stream path and the track control,
// using the streams known so far (a path may itself contain slashes).
func (s *server) resolve(full string) (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[full]; ok {
		return full, ""
	}
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[:i], full[i+1:]
	}
	return full, ""
}

func (s *server) authorised(path string, req *request) bool {
	cred, ok := s.auth[path]
	if !ok {
		return true
	}
	h := req.header("Authorization")
	if !strings.HasPrefix(h, "Basic ") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	if err != nil {
		return false
	}
	return string(raw) == cred.user+":"+cred.pass
}

var challenge = map[string]string{"WWW-Authenticate": `Basic realm="crowdlens-rtsp"`}

func (s *server) handle(c *conn, req *request) (int, map[string]string, []byte) {
	full := urlPath(req.rawURL)
	path, control := s.resolve(full)
	switch req.method {
	case "OPTIONS":
		return 200, map[string]string{"Public": "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, GET_PARAMETER, TEARDOWN"}, nil
	case "GET_PARAMETER", "SET_PARAMETER":
		return 200, nil, nil
	case "TEARDOWN":
		return 200, nil, nil
	}
	if !s.authorised(path, req) {
		return 401, challenge, nil
	}
	switch req.method {
	case "ANNOUNCE":
		return s.announce(c, full, req)
	case "DESCRIBE":
		s.mu.Lock()
		st := s.streams[full]
		var sdp []byte
		if st != nil {
			sdp = st.sdp
		}
		s.mu.Unlock()
		if st == nil {
			return 404, nil, nil
		}
		base := strings.TrimSuffix(req.rawURL, "/") + "/"
		return 200, map[string]string{"Content-Type": "application/sdp", "Content-Base": base}, sdp
	case "SETUP":
		return s.setup(c, path, control, req)
	case "RECORD":
		if c.role != "publisher" {
			return 455, nil, nil
		}
		log.Printf("publisher recording on %s", c.path)
		return 200, map[string]string{"Session": c.session}, nil
	case "PLAY":
		if c.role != "reader" {
			return 455, nil, nil
		}
		s.mu.Lock()
		st := s.streams[c.path]
		if st != nil {
			st.readers[c] = struct{}{}
			c.playing = true
		}
		s.mu.Unlock()
		if st == nil {
			return 404, nil, nil
		}
		log.Printf("reader %s playing %s", c.nc.RemoteAddr(), c.path)
		return 200, map[string]string{"Session": c.session, "Range": "npt=0.000-"}, nil
	}
	return 405, nil, nil
}

var controlRe = regexp.MustCompile(`(?m)^a=control:(\S+)\s*$`)

func (s *server) announce(c *conn, path string, req *request) (int, map[string]string, []byte) {
	if len(req.body) == 0 {
		return 400, nil, nil
	}
	var controls []string
	for _, media := range strings.Split(string(req.body), "\nm=")[1:] {
		ctl := ""
		if m := controlRe.FindStringSubmatch(media); m != nil {
			ctl = m[1]
		}
		controls = append(controls, ctl)
	}
	st := &stream{path: path, sdp: req.body, controls: controls, publisher: c, readers: map[*conn]struct{}{}}
	s.mu.Lock()
	old := s.streams[path]
	s.streams[path] = st
	s.mu.Unlock()
	if old != nil {
		// A new publisher replaces a stale one (e.g. after its network dropped).
		s.dropStream(old)
	}
	c.role = "publisher"
	c.path = path
	c.session = newSession()
	log.Printf("publisher announced %s (%d media)", path, len(controls))
	return 200, map[string]string{"Session": c.session}, nil
}

var interleavedRe = regexp.MustCompile(`interleaved=(\d+)(?:-(\d+))?`)

func (s *server) setup(c *conn, path, control string, req *request) (int, map[string]string, []byte) {
	transport := req.header("Transport")
	m := interleavedRe.FindStringSubmatch(transport)
	if !strings.Contains(transport, "TCP") || m == nil {
		return 461, nil, nil
	}
	rtp, _ := strconv.Atoi(m[1])
	s.mu.Lock()
	st := s.streams[path]
	track := 0
	if st != nil {
		for i, ctl := range st.controls {
			if ctl == control || strings.HasSuffix(ctl, "/"+control) {
				track = i
			}
		}
	}
	s.mu.Unlock()
	if st == nil {
		return 404, nil, nil
	}
	if c.session == "" {
		c.session = newSession()
	}
	if c.role == "publisher" && st.publisher == c {
		c.pubChannels[rtp] = track
		c.pubChannels[rtp+1] = track
	} else {
		c.role = "reader"
		c.path = path
		c.readChannel[track] = rtp
	}
	reply := fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d", rtp, rtp+1)
	if strings.Contains(transport, "mode=record") {
		reply += ";mode=record"
	}
	return 200, map[string]string{"Transport": reply, "Session": c.session + ";timeout=60"}, nil
}

func (s *server) forward(pub *conn, channel int, payload []byte) {
	track, ok := pub.pubChannels[channel]
	if !ok {
		return
	}
	// Even channels carry RTP, odd ones RTCP (the pair SETUP assigned).
	rtcp := channel%2 == 1
	s.mu.Lock()
	st := s.streams[pub.path]
	var readers []*conn
	if st != nil && st.publisher == pub {
		for r := range st.readers {
			readers = append(readers, r)
		}
	}
	s.mu.Unlock()
	for _, r := range readers {
		base, ok := r.readChannel[track]
		if !ok {
			continue
		}
		ch := base
		if rtcp {
			ch = base + 1
		}
		frame := make([]byte, 4+len(payload))
		frame[0] = '$'
		frame[1] = byte(ch)
		frame[2] = byte(len(payload) >> 8)
		frame[3] = byte(len(payload))
		copy(frame[4:], payload)
		r.send(frame)
	}
}

func (s *server) dropStream(st *stream) {
	s.mu.Lock()
	readers := make([]*conn, 0, len(st.readers))
	for r := range st.readers {
		readers = append(readers, r)
	}
	st.readers = map[*conn]struct{}{}
	s.mu.Unlock()
	for _, r := range readers {
		r.close()
	}
	st.publisher.close()
}

func (s *server) disconnect(c *conn) {
	c.close()
	s.mu.Lock()
	st := s.streams[c.path]
	var gone *stream
	if st != nil {
		if st.publisher == c {
			delete(s.streams, c.path)
			gone = st
		} else {
			delete(st.readers, c)
		}
	}
	s.mu.Unlock()
	if gone != nil {
		log.Printf("publisher of %s left; closing %d reader(s)", gone.path, len(gone.readers))
		s.dropStream(gone)
	}
}

var sessionCounter struct {
	sync.Mutex
	n int
}

func newSession() string {
	sessionCounter.Lock()
	defer sessionCounter.Unlock()
	sessionCounter.n++
	return fmt.Sprintf("%08x%04d", time.Now().UnixNano()&0xffffffff, sessionCounter.n)
}
