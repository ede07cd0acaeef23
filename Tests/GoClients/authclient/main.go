// authclient drives an auth-enabled cluster through Go's clientv3 with
// Username/Password, as Kubernetes tooling does. As root it creates user
// "app" with read-write on prefix "app/", then as "app" it writes and reads
// inside the prefix (keys under app/go/), is refused outside it (Range, Put, Txn, Watch), and
// keeps working across an auth change made meanwhile (with JWT tokens the
// client must re-authenticate on "revision of auth store is old").
//
// Usage: authclient -endpoints A[,B,C] [-root-endpoint X]; prints
// "authclient ok" and exits 0 on success.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

var (
	endpoints    = flag.String("endpoints", "127.0.0.1:2379", "comma-separated endpoints for user app")
	rootEndpoint = flag.String("root-endpoint", "", "endpoint root uses (default: the first)")
	setup        = flag.Bool("setup", true, "create root, app and enable auth first")
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "authclient: "+format+"\n", args...)
	os.Exit(1)
}

func client(eps []string, user, password string) *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, Username: user, Password: password, DialTimeout: 10 * time.Second})
	if err != nil {
		fail("connect as %s: %v", user, err)
	}
	return c
}

func main() {
	flag.Parse()
	eps := strings.Split(*endpoints, ",")
	rootEP := eps[:1]
	if *rootEndpoint != "" {
		rootEP = []string{*rootEndpoint}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if *setup {
		plain, err := clientv3.New(clientv3.Config{Endpoints: rootEP, DialTimeout: 10 * time.Second})
		if err != nil {
			fail("connect: %v", err)
		}
		for _, step := range []func() error{
			func() error { _, err := plain.UserAdd(ctx, "root", "rootpw"); return err },
			func() error { _, err := plain.RoleAdd(ctx, "root"); return err },
			func() error { _, err := plain.UserGrantRole(ctx, "root", "root"); return err },
			func() error { _, err := plain.UserAdd(ctx, "app", "apppw"); return err },
			func() error { _, err := plain.RoleAdd(ctx, "app"); return err },
			func() error {
				_, err := plain.RoleGrantPermission(ctx, "app", "app/", clientv3.GetPrefixRangeEnd("app/"), clientv3.PermissionType(clientv3.PermReadWrite))
				return err
			},
			func() error { _, err := plain.UserGrantRole(ctx, "app", "app"); return err },
			func() error { _, err := plain.AuthEnable(ctx); return err },
		} {
			if err := step(); err != nil {
				fail("setup: %v", err)
			}
		}
		plain.Close()
	}
	root := client(rootEP, "root", "rootpw")
	app := client(eps, "app", "apppw")
	for i := 0; i < 3; i++ {
		key := fmt.Sprintf("app/go/k%d", i)
		if _, err := app.Put(ctx, key, "v"); err != nil {
			fail("put %s: %v", key, err)
		}
		r, err := app.Get(ctx, "app/go/", clientv3.WithPrefix())
		if err != nil || len(r.Kvs) != i+1 {
			fail("get prefix: %v %v", r, err)
		}
	}
	if _, err := app.Get(ctx, "other"); err != rpctypes.ErrPermissionDenied {
		fail("get outside the prefix: want permission denied, got %v", err)
	}
	if _, err := app.Put(ctx, "other", "v"); err != rpctypes.ErrPermissionDenied {
		fail("put outside the prefix: want permission denied, got %v", err)
	}
	txn := app.Txn(ctx).If(clientv3.Compare(clientv3.Version("app/go/k0"), ">", 0)).Then(clientv3.OpPut("other", "v"))
	if _, err := txn.Commit(); err != rpctypes.ErrPermissionDenied {
		fail("txn writing outside the prefix: want permission denied, got %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	wr := <-app.Watch(wctx, "other")
	wcancel()
	if !wr.Canceled {
		fail("watch outside the prefix: want canceled, got %+v", wr)
	}
	// An auth change bumps the auth revision: JWT tokens become old and the
	// client must re-authenticate by itself; simple tokens go on.
	if _, err := root.RoleAdd(ctx, "unrelated"); err != nil {
		fail("role add as root: %v", err)
	}
	if _, err := app.Put(ctx, "app/go/after", "v"); err != nil {
		fail("put after an auth change: %v", err)
	}
	if _, err := root.RoleRevokePermission(ctx, "app", "app/", clientv3.GetPrefixRangeEnd("app/")); err != nil {
		fail("revoke: %v", err)
	}
	if _, err := app.Get(ctx, "app/go/k0"); err != rpctypes.ErrPermissionDenied {
		fail("get after the grant was revoked: want permission denied, got %v", err)
	}
	if r, err := root.Get(ctx, "app/go/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil || r.Count != 4 {
		fail("root reads everything: %v %v", r, err)
	}
	// Leave the grant as it was.
	if _, err := root.RoleGrantPermission(ctx, "app", "app/", clientv3.GetPrefixRangeEnd("app/"), clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
		fail("grant again: %v", err)
	}
	fmt.Println("authclient ok")
}
