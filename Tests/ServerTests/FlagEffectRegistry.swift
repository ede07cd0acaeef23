/// Where the effect of each supported flag is shown: flag → the tests (by
/// function name, anywhere under Tests/) that fail if the flag stopped
/// doing what etcd 3.5's does. `serverOptionsCarryEveryFlag` (the flag
/// reaches `ServerOptions`) is implied for every flag the server reads.
///
/// `FlagEffectRegistryTests` fails when a flag is marked `.supported` in
/// `EtcdServerFlags` without an entry here, when an entry names a test that
/// does not exist, or when an entry is left for a flag no longer supported:
/// a flag cannot be declared honoured without a test showing it.
enum FlagEffectRegistry {
    static let tests: [String: [String]] = [
        // Member
        "name": ["bootstrapMemberListAndWritesThroughEveryMember"],
        "data-dir": ["restartsOnItsOwnData"],
        "wal-dir": ["walDirKeepsTheWALApart"],
        "snapshot-count": ["restartAfterManySnapshots", "maxSnapshotsBoundsTheSnapshotFiles"],
        "heartbeat-interval": ["heartbeatAndElectionTimeoutSetTheMinimumLeaseTTL"],
        "election-timeout": ["heartbeatAndElectionTimeoutSetTheMinimumLeaseTTL"],
        "initial-election-tick-advance": ["initialElectionTickAdvanceFastForwardsElectionTicks"],
        "listen-peer-urls": ["bootstrapMemberListAndWritesThroughEveryMember", "takenPeerPortFailsStartUpClearly"],
        "listen-client-urls": ["etcdctlEndpointStatusAndHealth"],
        "max-snapshots": ["maxSnapshotsBoundsTheSnapshotFiles"],
        "max-wals": ["snapshotMarkerOpenAndRelease", "walOptionsFollowMaxWALsAndUnsafeNoFsync"],
        "quota-backend-bytes": ["quotaRaisesNoSpaceAlarmUntilDisarmed"],
        "backend-batch-interval": ["backendBatchIntervalSyncsTheBackendPeriodically"],
        "backend-batch-limit": ["backendBatchLimitCapsRequestsPerCommit"],
        "max-txn-ops": ["maxTxnOpsLimitsOperationsPerTxn"],
        "max-request-bytes": ["maxRequestBytesRefusesLargerRequests", "largeRequestsAnswerAsEtcd"],
        "max-concurrent-streams": ["maxConcurrentStreamsIsAdvertised"],
        "enable-grpc-gateway": ["grpcGatewayCanBeTurnedOff"],
        "grpc-keepalive-min-time": ["keepaliveStrikesLeadToGoAway"],
        "grpc-keepalive-interval": ["deadClientIsClosedLiveClientStays"],
        "grpc-keepalive-timeout": ["deadClientIsClosedLiveClientStays"],
        "socket-reuse-port": ["socketReusePortSharesTheListeningPorts"],
        "socket-reuse-address": ["socketReuseAddressRebindsOverTimeWait"],
        "raft-read-timeout": ["raftReadTimeoutClosesSilentPeerConnections"],
        "raft-write-timeout": ["peerWriteTimeoutClosesAStuckConnection"],
        // Clustering
        "initial-advertise-peer-urls": ["bootstrapMemberListAndWritesThroughEveryMember"],
        "initial-cluster": ["bootstrapMemberListAndWritesThroughEveryMember"],
        "initial-cluster-state": ["singleMemberGrowsToThreeThenShrinks"],
        "initial-cluster-token": ["defaultMemberMatchesEtcd", "bootstrapMemberListAndWritesThroughEveryMember"],
        "advertise-client-urls": ["bootstrapMemberListAndWritesThroughEveryMember"],
        "strict-reconfig-check": ["strictReconfigCheckRefusesChangesWithoutAStartedQuorum"],
        "pre-vote": ["preVoteFlagDecidesThePreCandidatePhase", "electionWithPreVoteIsLoggedAsEtcdWordsIt"],
        "auto-compaction-retention": ["periodicAutoCompaction"],
        "auto-compaction-mode": ["periodicAutoCompaction", "revisionModeKeepsTheLastN"],
        // Profiling and monitoring
        "enable-pprof": ["procfileFlagsAndPprofEndpoints"],
        "metrics": ["metricsOnClientAndMetricsPortsMoveWithPuts"],
        "listen-metrics-urls": ["metricsOnClientAndMetricsPortsMoveWithPuts"],
        // Logging
        "logger": ["loggerCapnslogIsRefusedAsInEtcd35"],
        "log-outputs": ["logOutputsWriteToTheNamedFile"],
        "log-level": ["dpanicLevelKeepsOnlyFatalLines"],
        "log-format": ["consoleFormatIsZapsConsoleLayout"],
        // Experimental
        "experimental-initial-corrupt-check": ["corruptedMemberIsRefusedAtStartAndAlarmedByTheLeader"],
        "experimental-corrupt-check-time": ["corruptedMemberIsRefusedAtStartAndAlarmedByTheLeader"],
        "experimental-compact-hash-check-enabled": ["compactHashCheckAlarmsACorruptedFollower", "compactHashCheckJudgesAsEtcd"],
        "experimental-compact-hash-check-time": ["compactHashCheckAlarmsACorruptedFollower"],
        "experimental-enable-lease-checkpoint": ["checkpointsCarryRemainingTTLAcrossPromotion"],
        "experimental-enable-lease-checkpoint-persist": ["persistedRemainingTTLCountsOnlyWithCheckpointPersist"],
        "experimental-compaction-batch-limit": ["compactionBatchLimitSetsKeysPerChunk"],
        "experimental-compaction-sleep-interval": ["compactionSleepsBetweenChunks"],
        "experimental-watch-progress-notify-interval": ["goClientV3WatchSessionsMutex"],
        "experimental-warning-apply-duration": ["warningApplyDurationWarnsAboutSlowApplies"],
        "experimental-warning-unary-request-duration": ["warningUnaryRequestDurationLogsSlowCalls"],
        "experimental-bootstrap-defrag-threshold-megabytes": ["bootstrapDefragThresholdDefragmentsAtStart"],
        "experimental-max-learners": ["maxLearnersBoundsLearnerMembers"],
        "experimental-snapshot-catchup-entries": ["killedFollowerCatchesUpBySnapshotAndDoesNotHoldBackCompaction"],
        "experimental-wait-cluster-ready-timeout": ["waitClusterReadyTimeoutBoundsTheWaitForQuorum"],
        "experimental-stop-grpc-service-on-defrag": ["stopGRPCServiceOnDefragReportsNotServing"],
        // Auth
        "auth-token": ["goClientV3WithSimpleTokens", "goClientV3WithJWTTokens", "jwtTokensInteroperateWithEtcd"],
        "auth-token-ttl": ["ttlIsRefreshedOnUse", "expiredTokensAreSwept"],
        "bcrypt-cost": ["oursAreGoFormatted", "bcryptHashesVerifyInGo"],
        // Security (TLS)
        "cert-file": ["etcdctlBothVersionsOverMutualTLS", "startUpErrorsAsEtcd"],
        "key-file": ["etcdctlBothVersionsOverMutualTLS", "startUpErrorsAsEtcd"],
        "trusted-ca-file": ["etcdctlBothVersionsOverMutualTLS", "refusalsLeaveTheMemberServing"],
        "client-cert-auth": ["refusalsLeaveTheMemberServing"],
        // Only read and checked (Config); no test shows the gateway using them yet.
        "client-cert-file": ["clientFlagsAreRead", "clientCertWithoutClientKey", "gatewayPresentsTheClientCertificateFile"],
        "client-key-file": ["clientFlagsAreRead", "clientCertWithoutClientKey", "gatewayPresentsTheClientCertificateFile"],
        "client-crl-file": ["refusalsLeaveTheMemberServing"],
        "client-cert-allowed-hostname": ["versionsSuitesAndAllowedHostname", "allowedHostname"],
        "auto-tls": ["autoTLSGeneratesAndServes"],
        "self-signed-cert-validity": ["autoTLSGeneratesAndServes", "selfSignedCertificateAsEtcdMakesIt"],
        "tls-min-version": ["versionsSuitesAndAllowedHostname"],
        "tls-max-version": ["versionsSuitesAndAllowedHostname"],
        "cipher-suites": ["versionsSuitesAndAllowedHostname"],
        "listen-client-http-urls": ["separateHTTPListenerAndHTTPSMetrics"],
        "peer-cert-file": ["replicationAndMemberListOverMutualTLS", "snapshotTransferOverTLS"],
        "peer-key-file": ["replicationAndMemberListOverMutualTLS"],
        "peer-trusted-ca-file": ["peersWithWrongCAOrSANAreRefused"],
        "peer-client-cert-auth": ["peersWithWrongCAOrSANAreRefused"],
        "peer-client-cert-file": ["allowedCNSeparateClientCertificatesAndSkippedSANCheck"],
        "peer-client-key-file": ["allowedCNSeparateClientCertificatesAndSkippedSANCheck"],
        "peer-cert-allowed-cn": ["allowedCNSeparateClientCertificatesAndSkippedSANCheck", "allowedCommonNameOnPeerSide"],
        "peer-cert-allowed-hostname": ["allowedHostname"],
        "experimental-peer-skip-client-san-verification": ["allowedCNSeparateClientCertificatesAndSkippedSANCheck"],
        "peer-crl-file": ["revokedPeerCertificateIsRefused"],
        "peer-auto-tls": ["peerAutoTLSCluster", "autoTLSMembersHandshakeWithEachOther"],
        // Unsafe
        "force-new-cluster": ["forceNewClusterRecoversTheLastSurvivor", "forcedRewriteRemovesEveryOtherMember"],
        "unsafe-no-fsync": ["unsafeNoFsyncSkipsTheWALFsync", "walOptionsFollowMaxWALsAndUnsafeNoFsync"],
    ]
}
