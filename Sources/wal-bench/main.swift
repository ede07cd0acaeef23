print("wal-bench: not yet")
