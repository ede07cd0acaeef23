// swift-tools-version:6.0
import PackageDescription

/// The git commit `--version` reports: the Makefile sets it; a plain `swift
/// build` leaves it empty. Only CBuildInfo's one C file is compiled with it.
let gitCommit = Context.environment["SWIFT_ETCD_GIT_COMMIT"]?.filter { $0.isLetter || $0.isNumber } ?? ""

/// Module map: ARCHITECTURE.md. A Put flows socket → GRPCWire → Server →
/// Raft → WAL → MVCC; the C libraries (nghttp2, protobuf-c, LMDB) sit behind CShims.
let package = Package(
    name: "swift-etcd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swift-etcd", targets: ["swift-etcd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.6.0"),
        // 4.x as well: swift-certificates and jwt-kit 5 resolve to it.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        // bcrypt (HummingbirdBcrypt only) and JWT signing for etcd's auth tokens.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
    ],
    targets: [
        // MARK: C shims
        .target(
            name: "CProtobuf",
            path: "CShims/CProtobuf",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(
            name: "CNGHTTP2",
            path: "CShims/CNGHTTP2",
            linkerSettings: [.linkedLibrary("nghttp2")]
        ),
        .target(
            name: "CBuildInfo",
            path: "CShims/CBuildInfo",
            cSettings: gitCommit.isEmpty ? [] : [.define("SWIFT_ETCD_GIT_COMMIT", to: "\"\(gitCommit)\"")]
        ),
        .target(
            name: "CLMDB",
            path: "CShims/CLMDB",
            linkerSettings: [.linkedLibrary("lmdb")]
        ),
        .target(
            name: "CZlib",
            path: "CShims/CZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),
        // The CPU's CRC-32C instruction, used through Support.CRC32C (no library).
        .target(name: "CCRC32C", path: "CShims/CCRC32C"),

        // MARK: support (file I/O policy, checksums, digests, seeded random)
        .target(name: "Support", dependencies: ["CCRC32C", .product(name: "Crypto", package: "swift-crypto")]),

        // MARK: libraries
        // JSON string escaping as Go's encoding/json and zap write it (no dependencies).
        .target(name: "JSONEscaping"),
        .target(name: "Proto", dependencies: ["CProtobuf", "JSONEscaping"]),
        .executableTarget(name: "proto-bench", dependencies: ["Proto"], path: "Tools/proto-bench"),
        .target(name: "FuzzSupport", path: "Tools/FuzzSupport"),
        .executableTarget(name: "proto-fuzz", dependencies: ["Proto", "FuzzSupport"], path: "Tools/proto-fuzz"),
        .target(
            name: "GRPCWire",
            dependencies: [
                "CNGHTTP2", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .executableTarget(
            name: "GRPCWireBench",
            dependencies: ["GRPCWire", .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOCore", package: "swift-nio")], path: "Tools/GRPCWireBench"
        ),
        .target(name: "Raft"),
        .target(name: "WAL", dependencies: ["Raft", "Support", .product(name: "Logging", package: "swift-log")]),
        // bbolt's file format (etcd's backend and snapshot files): a
        // streaming writer and a reader that trusts nothing; pure but for pread.
        .target(name: "Bolt"),
        .target(name: "MVCC", dependencies: ["CLMDB", "Support", "Bolt", "JSONEscaping"]),
        // libFuzzer target: bbolt files and etcd WAL segments (Tools-style, see FuzzSupport).
        .executableTarget(name: "bolt-fuzz", dependencies: ["Bolt", "MVCC", "WAL", "FuzzSupport"], path: "Tools/bolt-fuzz"),
        .executableTarget(name: "mvcc-bench", dependencies: ["MVCC", "Support"], path: "Tools/mvcc-bench"),
        // Test-only: corrupts a stopped member's store for the corruption-check tests.
        .executableTarget(name: "mvcc-corrupt", dependencies: ["CLMDB"], path: "Tools/mvcc-corrupt"),
        // etcd's auth store as pure logic: users, roles, permission checks,
        // tokens and password hashing; persisted through MVCC by the server.
        .target(
            name: "Auth",
            dependencies: [
                "Proto", "MVCC",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .target(name: "Config", dependencies: ["CBuildInfo", .product(name: "Yams", package: "Yams")], exclude: ["README.md"]),
        .target(
            name: "Server",
            dependencies: [
                "Proto", "GRPCWire", "Raft", "WAL", "MVCC", "Bolt", "Config", "Support", "Auth", "JSONEscaping",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(name: "Linearizability", dependencies: ["Support"], path: "Tools/Linearizability"),
        // libFuzzer target for the apply path (ApplyFuzzTests runs it seeded in `make test`).
        .executableTarget(name: "apply-fuzz", dependencies: ["Server", "MVCC", "Proto", "Raft", "FuzzSupport",
                                                             .product(name: "Logging", package: "swift-log")], path: "Tools/apply-fuzz"),
        .executableTarget(name: "wal-bench", dependencies: ["WAL", "Raft", "Support"], path: "Tools/wal-bench"),
        .executableTarget(name: "wal-crash-child", dependencies: ["WAL", "Raft"], path: "Tools/wal-crash-child"),
        .executableTarget(name: "raft-sim", dependencies: ["Raft", "Support"], path: "Tools/raft-sim"),
        .executableTarget(name: "raft-bench", dependencies: ["Raft"], path: "Tools/raft-bench"),
        .executableTarget(
            name: "swift-etcd",
            dependencies: [
                "Server", "Config", "Support",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // The release binary (the one `make install` installs and the
            // integration tests run) carries the Swift runtime and Foundation
            // in it, so it runs on machines without the Swift toolchain. The
            // flag is needed when compiling too (it picks the static
            // libraries' link entries); only this target gets it, so the other
            // release products build as before.
            swiftSettings: [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release))],
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release))]
        ),

        // MARK: tests
        .testTarget(name: "ProtoTests", dependencies: ["Proto", "Support", "CProtobuf"]),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "JSONEscapingTests", dependencies: ["JSONEscaping"]),
        .testTarget(name: "GRPCWireTests", dependencies: [
            "GRPCWire", "CNGHTTP2",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "raft-sim"], resources: [.copy("testdata")]),
        .testTarget(name: "WALTests", dependencies: ["WAL", "Raft", "Support", "TestSupport", "wal-crash-child"]),
        // Helpers more than one test target needs (where etcd 3.5.1's binaries are).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MVCCTests", dependencies: ["MVCC", "Support", "Bolt", "Server", "TestSupport"]),
        .testTarget(name: "BoltTests", dependencies: ["Bolt", "Support"], exclude: ["testdata"]),
        .testTarget(name: "ServerTests", dependencies: ["TestSupport", "Server", "Config", "Proto", "MVCC", "Raft", "WAL", "Support", "GRPCWire", "Auth", "apply-fuzz",
                                                  .product(name: "NIOCore", package: "swift-nio"),
                                                  .product(name: "NIOPosix", package: "swift-nio"),
                                                  .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                  .product(name: "X509", package: "swift-certificates"),
                                                  .product(name: "Crypto", package: "swift-crypto"),
                                                  .product(name: "SwiftASN1", package: "swift-asn1"),
                                                  .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "Proto", "MVCC"]),
        .testTarget(name: "LinearizabilityTests", dependencies: ["Linearizability", "Support"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Proto", "Linearizability", "mvcc-corrupt", "Auth", "TestSupport", "Bolt", "Support", "WAL"]),
    ],
    swiftLanguageModes: [.v5]
)

/// `make test` builds once, in release, and runs every test against the
/// optimised code `make run` starts: our Swift modules are compiled for
/// testing in release too (so the unit tests' `@testable import` works), and
/// the binary the integration tests run is the very one `make run` and
/// `make install` build. Building a second, debug configuration took CI ~12
/// minutes more. The flag's cost, builds with and without it side by side:
/// linearizable range and the 90/10 mix within run-to-run noise; put and
/// lease keep-alive perhaps ~5% more server CPU per request (2 rounds).
/// Dependencies and the C shims are left as they are.
for target in package.targets where target.type != .test && !(target.path ?? "").hasPrefix("CShims") {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-enable-testing"], .when(configuration: .release))]
}
