print("swift-etcd")
