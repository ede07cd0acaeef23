// unreadclient speaks raw HTTP/2 to a gRPC endpoint and never reads its
// socket, as a stuck or hostile client would: it opens one connection,
// sends many calls and holds the connection without taking a byte of the
// answers (so neither TCP nor HTTP/2 flow control ever moves), then leaves.
//
//	unreadclient -addr 127.0.0.1:2379 -mode range -calls 2000 -key k -end l -hold 5s
//	    Range calls for [key, end)
//	unreadclient -mode watch -calls 100 -key k -end l
//	    one Watch stream per call, each watching [key, end)
//	unreadclient -mode watchers -calls 1000 -key k -end l
//	    one Watch stream carrying -calls watchers of [key, end)
//	unreadclient -mode keepalive -calls 100000 -lease 7
//	    one LeaseKeepAlive stream sending -calls requests for lease -lease
//
// -window W advertises a W-byte stream window and grows the connection
// window by W too (default: HTTP/2's 65,535 bytes), so the server may send
// that much before flow control stops it. Prints "sent N" once everything
// is written (or the socket stops taking bytes) and "closed" at the end.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
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

func grpcFrame(msg []byte) []byte {
	n := len(msg)
	return append([]byte{0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, msg...)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:2379", "host:port")
	mode := flag.String("mode", "range", "range | watch | watchers | keepalive")
	calls := flag.Int("calls", 1000, "calls (range), streams (watch) or requests (keepalive)")
	key := flag.String("key", "k", "key")
	end := flag.String("end", "", "range end")
	lease := flag.Int64("lease", 0, "lease ID (keepalive)")
	window := flag.Int("window", 0, "stream and connection window to advertise (0: 65,535)")
	hold := flag.Duration("hold", 5*time.Second, "how long to keep the connection after sending")
	flag.Parse()

	conn, err := net.DialTimeout("tcp", *addr, 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "unreadclient: dial:", err)
		os.Exit(1)
	}
	// Small kernel buffers so the connection backs up at once.
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	var out bytes.Buffer
	out.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&out, nil)
	if *window > 0 {
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(*window)})
		fr.WriteWindowUpdate(0, uint32(*window))
	} else {
		fr.WriteSettings()
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	headers := func(path string) []byte {
		hb.Reset()
		for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", path},
			{":authority", *addr}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		return append([]byte(nil), hb.Bytes()...)
	}
	var rangeReq, watchReq bytes.Buffer
	field(&rangeReq, 0x0A, []byte(*key))
	field(&rangeReq, 0x12, []byte(*end))
	var create bytes.Buffer
	field(&create, 0x0A, []byte(*key))
	field(&create, 0x12, []byte(*end))
	field(&watchReq, 0x0A, create.Bytes())
	var kaReq bytes.Buffer
	kaReq.WriteByte(0x08)
	varint(&kaReq, uint64(*lease))

	stream := uint32(1)
	flushed := 0
	send := func() bool {
		conn.SetWriteDeadline(time.Now().Add(3 * time.Second))
		_, err := conn.Write(out.Bytes())
		flushed += out.Len()
		out.Reset()
		return err == nil
	}
	ok := true
	// One call per stream: HEADERS then its one message (END_STREAM for unary calls).
	sendCalls := func(path string, msg []byte, endStream bool) {
		for i := 0; i < *calls && ok; i++ {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: headers(path), EndHeaders: true})
			fr.WriteData(stream, endStream, grpcFrame(msg))
			stream += 2
			if out.Len() > 32*1024 {
				ok = send()
			}
		}
	}
	// One stream carrying -calls messages (watch creates, keep-alives).
	sendOnOneStream := func(path string, msg []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: headers(path), EndHeaders: true})
		framed := grpcFrame(msg)
		for i := 0; i < *calls && ok; i++ {
			fr.WriteData(stream, false, framed)
			if out.Len() > 32*1024 {
				ok = send()
			}
		}
	}
	switch *mode {
	case "range":
		sendCalls("/etcdserverpb.KV/Range", rangeReq.Bytes(), true)
	case "watch":
		sendCalls("/etcdserverpb.Watch/Watch", watchReq.Bytes(), false)
	case "watchers":
		sendOnOneStream("/etcdserverpb.Watch/Watch", watchReq.Bytes())
	case "keepalive":
		sendOnOneStream("/etcdserverpb.Lease/LeaseKeepAlive", kaReq.Bytes())
	default:
		fmt.Fprintln(os.Stderr, "unreadclient: unknown mode", *mode)
		os.Exit(2)
	}
	if ok {
		send()
	}
	fmt.Printf("sent %d\n", flushed)
	time.Sleep(*hold)
	conn.Close()
	fmt.Println("closed")
}
