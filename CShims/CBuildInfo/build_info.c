#include "CBuildInfo.h"

#ifndef SWIFT_ETCD_GIT_COMMIT
#define SWIFT_ETCD_GIT_COMMIT ""
#endif

const char *swift_etcd_git_commit(void) { return SWIFT_ETCD_GIT_COMMIT; }
