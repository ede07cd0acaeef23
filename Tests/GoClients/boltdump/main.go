// boltdump opens a bbolt file with bbolt itself (go.etcd.io/bbolt), runs
// its integrity check, and prints every bucket's entries as hex, one line
// each: "bucket<TAB>key-hex<TAB>value-hex". It is the independent judge of
// the files swift-etcd writes. Usage: boltdump FILE (a trailing SHA-256,
// as etcdctl snapshot save writes it, must be cut off first).
package main

import (
	"encoding/hex"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: boltdump FILE")
		os.Exit(2)
	}
	db, err := bolt.Open(os.Args[1], 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		n := 0
		for e := range tx.Check() {
			fmt.Fprintln(os.Stderr, "check:", e)
			n++
		}
		if n > 0 {
			return fmt.Errorf("%d integrity errors", n)
		}
		fmt.Printf("#size\t%d\n", tx.Size())
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fmt.Printf("#bucket\t%s\n", name)
			return b.ForEach(func(k, v []byte) error {
				fmt.Printf("%s\t%s\t%s\n", name, hex.EncodeToString(k), hex.EncodeToString(v))
				return nil
			})
		})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
