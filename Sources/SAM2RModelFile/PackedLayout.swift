// PackedLayout.swift — the int8 packed-weight layout of Kernels/include/sam2r_gemm_s8.h read back:
// data[n/NR][k/KR][n%NR][k%KR], zero padded to whole NR x KR blocks. Checking a packed array (values,
// padding, wsum) and unpacking it (the exact inverse of sam2r_pack_s8, for repacking in another
// variant's layout) walk it the same way.

enum PackedLayout {
    /// Why a packed array is invalid (nil: valid): a -128 (kernels exclude it), a non-zero padding
    /// byte, or a wsum entry that differs from the sum of its row.
    static func problem(_ data: UnsafePointer<Int8>, wsum: UnsafeRawPointer, n: Int, k: Int, nr: Int, kr: Int) -> String? {
        let nb = (n + nr - 1) / nr, kb = (k + kr - 1) / kr
        var sums = [Int32](repeating: 0, count: nb * nr)
        var p = data
        var bad = false
        sums.withUnsafeMutableBufferPointer { s in
            for b in 0..<nb {
                for g in 0..<kb {
                    let col0 = g * kr
                    for i in 0..<nr {
                        let row = b * nr + i
                        var acc: Int32 = 0
                        for j in 0..<kr {
                            let v = p[j]
                            if v == -128 || ((row >= n || col0 + j >= k) && v != 0) { bad = true }
                            acc &+= Int32(v)
                        }
                        s[row] &+= acc
                        p += kr
                    }
                }
            }
        }
        if bad { return "packed weights hold -128 or non-zero padding" }
        for r in 0..<n {
            let stored = Int32(littleEndian: wsum.loadUnaligned(fromByteOffset: r * 4, as: Int32.self))
            if stored != sums[r] { return "wsum[\(r)] = \(stored), packed weights sum to \(sums[r])" }
        }
        return nil
    }

    /// q[n, k] row-major from a packed array.
    static func unpack(_ data: UnsafePointer<Int8>, n: Int, k: Int, nr: Int, kr: Int) -> [Int8] {
        let nb = (n + nr - 1) / nr, kb = (k + kr - 1) / kr
        var q = [Int8](repeating: 0, count: n * k)
        q.withUnsafeMutableBufferPointer { out in
            var p = data
            for b in 0..<nb {
                for g in 0..<kb {
                    for i in 0..<nr {
                        let row = b * nr + i
                        if row < n {
                            for j in 0..<kr where g * kr + j < k { out[row * k + g * kr + j] = p[j] }
                        }
                        p += kr
                    }
                }
            }
        }
        return q
    }
}
