// ThreadPool.swift — owns one sam2r_pool (Kernels/include/sam2r_pool.h): worker threads created
// once in init, destroyed in deinit. Kernels split their work over it; dispatch allocates nothing.

import SAM2RKernels

public final class ThreadPool: @unchecked Sendable {
    /// Threads that run tasks, counting the calling thread.
    public let threadCount: Int
    /// The C pool handle, passed to kernels.
    public let handle: OpaquePointer

    /// Largest accepted thread count (SAM2R_POOL_MAX_THREADS).
    public static let maxThreads = 256

    /// Creates `threads - 1` workers (the caller is the remaining one). Throws
    /// `invalidThreadCount` outside 1...256, `resourceUnavailable` if threads cannot be created.
    public init(threads: Int) throws {
        guard (1...ThreadPool.maxThreads).contains(threads) else {
            throw EngineError.invalidThreadCount(threads)
        }
        guard let h = sam2r_pool_create(Int32(threads)) else {
            throw EngineError.resourceUnavailable("sam2r_pool_create(\(threads)) failed")
        }
        handle = h
        threadCount = Int(sam2r_pool_threads(h))
    }

    deinit { sam2r_pool_destroy(handle) }
}
