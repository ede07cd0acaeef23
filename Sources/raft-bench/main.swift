print("raft-bench: not yet")
