// PackedLayout.swift — the int8 packed-weight layout of Kernels/include/sam2r_gemm_s8.h read back:
// data[n/NR][k/KR][n%NR][k%KR], zero padded to whole NR x KR blocks. Checking a packed array (values,
// padding, wsum) and unpacking it (the exact inverse of sam2r_pack_s8, for repacking in another
// variant's layout) walk it the same way: block by block, each block NR rows of KR bytes.

enum PackedLayout {
    /// Why a packed array is invalid (nil: valid): a -128 (kernels exclude it), a non-zero padding
    /// byte, or a wsum entry that differs from the sum of its row. One pass over the bytes, no
    /// branches in the inner loop (it runs over every weight of the model at load). `maxMagnitude`
    /// receives the largest |weight| (which kernels may run it: narrow-weight ones need ≤ 64).
    static func problem(_ data: UnsafePointer<Int8>, wsum: UnsafeRawPointer, n: Int, k: Int, nr: Int, kr: Int,
                        maxMagnitude: inout Int) -> String? {
        let nb = (n + nr - 1) / nr, kb = (k + kr - 1) / kr
        var sums = [Int32](repeating: 0, count: nb * nr)
        let (minSeen, maxSeen, paddingOr) = sums.withUnsafeMutableBufferPointer { s -> (Int8, Int8, Int8) in
            var minSeen: Int8 = 0, maxSeen: Int8 = 0
            var pad: Int8 = 0
            var p = data
            for b in 0..<nb {
                for g in 0..<kb {
                    let cols = min(kr, k - g * kr)  // real columns of this group; the rest is padding
                    for i in 0..<nr {
                        var acc: Int32 = 0
                        for j in 0..<cols {
                            acc &+= Int32(p[j])
                            minSeen = min(minSeen, p[j])
                            maxSeen = max(maxSeen, p[j])
                        }
                        for j in cols..<kr { pad |= p[j] }
                        if b * nr + i < n {
                            s[b * nr + i] &+= acc
                        } else {
                            for j in 0..<cols { pad |= p[j] }  // rows past n are all padding
                        }
                        p += kr
                    }
                }
            }
            return (minSeen, maxSeen, pad)
        }
        if minSeen == -128 || paddingOr != 0 { return "packed weights hold -128 or non-zero padding" }
        maxMagnitude = Swift.max(maxMagnitude, Int(maxSeen), -Int(minSeen))
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
                    let cols = min(kr, k - g * kr)
                    for i in 0..<nr {
                        let row = b * nr + i
                        if row < n { for j in 0..<cols { out[row * k + g * kr + j] = p[j] } }
                        p += kr
                    }
                }
            }
        }
        return q
    }
}
