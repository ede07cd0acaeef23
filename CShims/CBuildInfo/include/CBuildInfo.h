#pragma once

/// The git commit swift-etcd was built from ("" when not built by make).
/// Set at build time through the SWIFT_ETCD_GIT_COMMIT environment variable
/// (the Makefile passes `git rev-parse --short HEAD`); only this one C file
/// sees the value, so a new commit recompiles it alone.
const char *swift_etcd_git_commit(void);
