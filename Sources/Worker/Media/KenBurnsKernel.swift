import CMediaKernels

/// The Ken Burns resample's two passes over one plane (CShims/CMediaKernels: AVX2 where the CPU has it, the same
/// bytes without). A plan turns each run of 16 output columns into two loads and a byte shuffle; it is made once per
/// plane and frame, since the window, and so every column's taps, moves every frame.
///
/// Used from one thread at a time (the iterator that owns it).
final class BilinearKernel {
    private var plan: UnsafeMutableRawPointer?
    private var capacity = 0
    private(set) var width = 0
    /// Rows resampled across: 16-bit, value x 256 (at most 65,280).
    private(set) var rows: (UnsafeMutablePointer<UInt16>, UnsafeMutablePointer<UInt16>)?

    /// True when the fast passes are in use on this CPU.
    static var simd: Bool { ps_kb_simd() != 0 }

    deinit {
        plan?.deallocate()
        if let rows { rows.0.deallocate(); rows.1.deallocate() }
    }

    /// Takes the taps of `left.count` output columns: left <= right, both non-decreasing, weights 0...256.
    func prepare(left: [Int32], right: [Int32], weight: [UInt16]) {
        let n = left.count
        precondition(right.count == n && weight.count == n, "one tap pair and weight per column")
        let bytes = ps_kb_plan_size(Int32(n))
        if bytes > capacity {
            plan?.deallocate()
            plan = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 32)
            capacity = bytes
        }
        if n != width {
            if let rows { rows.0.deallocate(); rows.1.deallocate() }
            rows = (.allocate(capacity: max(1, n)), .allocate(capacity: max(1, n)))
            width = n
        }
        left.withUnsafeBufferPointer { l in
            right.withUnsafeBufferPointer { r in
                weight.withUnsafeBufferPointer { w in ps_kb_plan(l.baseAddress, r.baseAddress, w.baseAddress, Int32(n), plan) }
            }
        }
    }

    /// Source row `src` resampled across into row slot `slot` (0 or 1). `src` must be readable 16 bytes past its
    /// last left tap (the canvas planes are padded).
    func horizontal(_ src: UnsafePointer<UInt8>, slot: Int, scalar: Bool = false) {
        guard let rows else { return }
        let out = slot == 0 ? rows.0 : rows.1
        if scalar { ps_kb_row_h_scalar(src, plan, Int32(width), out) } else { ps_kb_row_h(src, plan, Int32(width), out) }
    }

    /// One output row: slot `upper` x (256 - fy) + slot `lower` x fy, rounded, into `dst`.
    func vertical(upper: Int, lower: Int, fy: UInt32, into dst: UnsafeMutablePointer<UInt8>, scalar: Bool = false) {
        guard let rows else { return }
        let u = upper == 0 ? rows.0 : rows.1, l = lower == 0 ? rows.0 : rows.1
        if scalar { ps_kb_row_v_scalar(u, l, fy, dst, Int32(width)) } else { ps_kb_row_v(u, l, fy, dst, Int32(width)) }
    }
}

/// The Ken Burns iterator behind a narrow door, for Benchmarks/KenBurnsBench: it times the resample alone, against
/// the Swift one it replaced, on the same canvas.
@_spi(Benchmarks) public final class KenBurnsProbe {
    private let frames: KenBurnsFrames
    public init(still: Still, width: Int, height: Int, frames: Int, fps: Int) throws {
        self.frames = try KenBurnsFrames(still: still, width: width, height: height, frames: frames, fps: fps)
    }
    /// The kernels' scalar passes instead of the SIMD ones.
    public var scalar: Bool {
        get { frames.scalarPasses }
        set { frames.scalarPasses = newValue }
    }
    public var simd: Bool { BilinearKernel.simd }
    public var canvas: (y: [UInt8], u: [UInt8], v: [UInt8]) { frames.canvas }
    public var canvasSize: (width: Int, height: Int) { (frames.canvasWidth, frames.canvasHeight) }
    public func window(_ n: Int) -> (x: Double, y: Double, w: Double, h: Double) { frames.window(n) }
    /// The next frame's Y, U and V planes, packed one after the other at `buffer`; false at the end.
    public func next(into buffer: UnsafeMutablePointer<UInt8>, width: Int, height: Int) throws -> Bool {
        let y = buffer, u = y + width * height, v = u + (width / 2) * (height / 2)
        return try frames.next(planes: [(y, width), (u, width / 2), (v, width / 2)])
    }
}
