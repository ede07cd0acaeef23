// kvcheck drives an etcd endpoint through Go's clientv3, the client
// Kubernetes uses, and fails (exit 1) on the first answer that differs from
// what etcd gives. Usage: kvcheck -endpoint 127.0.0.1:2379
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

var endpoint = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		fmt.Fprintf(os.Stderr, "kvcheck: FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func must(err error, what string) {
	check(err == nil, "%s: %v", what, err)
}

func main() {
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	must(err, "connect")
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	put, err := cli.Put(ctx, "kvcheck/a", "1")
	must(err, "put a")
	rev1 := put.Header.Revision
	check(rev1 > 1, "put revision %d", rev1)

	put2, err := cli.Put(ctx, "kvcheck/a", "2", clientv3.WithPrevKV())
	must(err, "put a again")
	check(put2.PrevKv != nil && string(put2.PrevKv.Value) == "1", "prev kv %v", put2.PrevKv)
	check(put2.Header.Revision == rev1+1, "revision %d after %d", put2.Header.Revision, rev1)

	_, err = cli.Put(ctx, "kvcheck/b", "3")
	must(err, "put b")

	get, err := cli.Get(ctx, "kvcheck/a")
	must(err, "get a")
	check(len(get.Kvs) == 1 && string(get.Kvs[0].Value) == "2", "get a: %v", get.Kvs)
	kv := get.Kvs[0]
	check(kv.CreateRevision == rev1 && kv.ModRevision == rev1+1 && kv.Version == 2, "kv metadata %+v", kv)

	prefix, err := cli.Get(ctx, "kvcheck/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	must(err, "get prefix")
	check(prefix.Count == 2 && len(prefix.Kvs) == 2 && string(prefix.Kvs[0].Key) == "kvcheck/b", "prefix %v", prefix.Kvs)

	old, err := cli.Get(ctx, "kvcheck/a", clientv3.WithRev(rev1))
	must(err, "get old revision")
	check(len(old.Kvs) == 1 && string(old.Kvs[0].Value) == "1", "historical read %v", old.Kvs)

	ser, err := cli.Get(ctx, "kvcheck/a", clientv3.WithSerializable())
	must(err, "serializable get")
	check(len(ser.Kvs) == 1, "serializable get %v", ser.Kvs)

	txn, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.Value("kvcheck/a"), "=", "2")).
		Then(clientv3.OpPut("kvcheck/c", "4"), clientv3.OpGet("kvcheck/", clientv3.WithPrefix())).
		Else(clientv3.OpDelete("kvcheck/a")).Commit()
	must(err, "txn")
	check(txn.Succeeded && len(txn.Responses) == 2, "txn %+v", txn)
	check(txn.Responses[1].GetResponseRange().Count == 3, "txn range saw its own put")

	del, err := cli.Delete(ctx, "kvcheck/", clientv3.WithPrefix(), clientv3.WithPrevKV())
	must(err, "delete prefix")
	check(del.Deleted == 3 && len(del.PrevKvs) == 3, "deleted %d", del.Deleted)

	_, err = cli.Compact(ctx, del.Header.Revision)
	must(err, "compact")
	_, err = cli.Get(ctx, "kvcheck/a", clientv3.WithRev(rev1))
	check(err == rpctypes.ErrCompacted, "read below compaction: %v", err)

	_, err = cli.Put(ctx, "", "x")
	check(err == rpctypes.ErrEmptyKey, "empty key: %v", err)

	_, err = cli.Get(ctx, "kvcheck/a", clientv3.WithRev(del.Header.Revision+100))
	check(err == rpctypes.ErrFutureRev, "future revision: %v", err)

	fmt.Println("kvcheck: ok")
}
