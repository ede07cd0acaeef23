// bcryptcheck verifies bcrypt hashes with Go's golang.org/x/crypto/bcrypt
// (what etcd uses): each stdin line is "p=<hex password> <hash>"; prints
// "ok N" when every hash matches its password and a wrong password does
// not, else the first failure and exits 1.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) != 2 {
			continue
		}
		password, err := hex.DecodeString(strings.TrimPrefix(fields[0], "p="))
		if err != nil {
			fmt.Println("bad hex:", fields[0])
			os.Exit(1)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(fields[1]), password); err != nil {
			fmt.Printf("hash %s does not match %q: %v\n", fields[1], password, err)
			os.Exit(1)
		}
		if bcrypt.CompareHashAndPassword([]byte(fields[1]), append(password, 'x')) == nil && len(password) < 72 {
			fmt.Printf("hash %s also matches a wrong password\n", fields[1])
			os.Exit(1)
		}
		n++
	}
	fmt.Println("ok", n)
}
