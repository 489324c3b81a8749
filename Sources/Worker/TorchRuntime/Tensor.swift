import CTorchShim

/// A libtorch tensor. Owns its handle and frees it exactly once (in deinit).
///
/// `@unchecked Sendable`: the handle is set once and never reassigned, and every operation here only reads
/// the tensor (conversions make new tensors), so sharing one across tasks is safe: libtorch tensors
/// support concurrent reads. The one writer, `init(shape:dtype:fill:)`, writes before the value escapes.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    let handle: OpaquePointer

    init(owning handle: OpaquePointer) { self.handle = handle }

    deinit { ct_tensor_free(handle) }

    /// A CPU tensor holding a copy of `values` (row-major) with `shape`: the one copy into torch's storage.
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]) throws(TorchError) {
        let dims = shape.map(Int64.init)
        var out: OpaquePointer?
        let context = "creating a \(T.dtype) tensor of shape \(shape) from \(values.count) values"
        // Array's withUnsafe* only rethrow untyped errors: carry the typed one out by hand.
        var failure: TorchError?
        values.withUnsafeBytes { bytes in
            dims.withUnsafeBufferPointer { d in
                do {
                    try check(context) { ct_tensor_from_data(bytes.baseAddress, bytes.count, d.baseAddress, d.count, T.dtype.ct, &out, $0) }
                } catch { failure = error as? TorchError }
            }
        }
        if let failure { throw failure }
        self.init(owning: out!)
    }

    /// A 1-d CPU tensor of `values`.
    public convenience init<T: TensorScalar>(_ values: [T]) throws(TorchError) {
        try self.init(values, shape: [values.count])
    }

    /// A CPU tensor whose elements `fill` writes in place, in row-major order: no intermediate Swift array.
    public convenience init<T: TensorScalar>(shape: [Int], of type: T.Type = T.self,
                                             fill: (_ index: Int) -> T) throws(TorchError) {
        let dims = shape.map(Int64.init)
        var out: OpaquePointer?
        var failure: TorchError?
        dims.withUnsafeBufferPointer { d in
            do {
                try check("creating a \(T.dtype) tensor of shape \(shape)") { ct_tensor_empty(d.baseAddress, d.count, T.dtype.ct, &out, $0) }
            } catch { failure = error as? TorchError }
        }
        if let failure { throw failure }
        self.init(owning: out!)
        var nbytes = 0
        if let raw = ct_tensor_mutable_data(handle, &nbytes) {
            let typed = raw.bindMemory(to: T.self, capacity: nbytes / MemoryLayout<T>.stride)
            for i in 0..<(nbytes / MemoryLayout<T>.stride) { typed[i] = fill(i) }
        }
    }

    /// A CPU tensor of `shape` with every element `value`.
    public convenience init<T: TensorScalar>(shape: [Int], repeating value: T) throws(TorchError) {
        try self.init(shape: shape, of: T.self) { _ in value }
    }

    public var shape: [Int] {
        let n = ct_tensor_ndim(handle)
        var dims = [Int64](repeating: 0, count: n)
        dims.withUnsafeMutableBufferPointer { ct_tensor_shape(handle, $0.baseAddress, n) }
        return dims.map(Int.init)
    }

    public var count: Int { Int(ct_tensor_numel(handle)) }

    /// The element type; nil for types ProStudio does not use (complex, quantised).
    public var dtype: DType? {
        var d = CT_FLOAT32
        return ct_tensor_dtype(handle, &d) ? DType(d) : nil
    }

    public var device: Device {
        var buf = [CChar](repeating: 0, count: 32)
        buf.withUnsafeMutableBufferPointer { ct_tensor_device(handle, $0.baseAddress, $0.count) }
        let text = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Device(text) ?? .cpu
    }

    /// This tensor on `device` with `dtype`, contiguous; shares storage (no copy) when nothing changes.
    public func to(_ device: Device? = nil, dtype: DType? = nil) throws(TorchError) -> Tensor {
        let target = device ?? self.device
        guard let current = self.dtype else {
            throw TorchError(.unsupported, "tensor has a dtype ProStudio does not handle", context: "converting a tensor")
        }
        let want = dtype ?? current
        if target == self.device, want == current, target != .cpu || ct_tensor_is_contiguous_cpu(handle) {
            return self
        }
        var out: OpaquePointer?
        try check("converting a \(current) tensor on \(self.device) to \(want) on \(target)") {
            ct_tensor_to(handle, target.description, want.ct, &out, $0)
        }
        return Tensor(owning: out!)
    }

    /// The elements in row-major order. One copy when the tensor is already contiguous on the CPU with
    /// type T; otherwise it is converted first. Throws when T is not the tensor's type and `convert` is false.
    public func scalars<T: TensorScalar>(as type: T.Type = T.self, convert: Bool = false) throws(TorchError) -> [T] {
        if !convert, let d = dtype, d != T.dtype {
            throw TorchError(.dtypeMismatch, "tensor holds \(d), not \(T.dtype) (pass convert: true to convert)",
                             context: "reading a tensor of shape \(shape)")
        }
        let source = try to(.cpu, dtype: T.dtype)
        var nbytes = 0
        guard let raw = ct_tensor_data(source.handle, &nbytes) else {
            throw TorchError(.unknown, "tensor storage is not readable", context: "reading a tensor")
        }
        let n = nbytes / MemoryLayout<T>.stride
        let result = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: raw, byteCount: n * MemoryLayout<T>.stride) }
            initialized = n
        }
        withExtendedLifetime(source) {}
        return result
    }

    /// The single element of a one-element tensor, as a Double.
    public func item() throws(TorchError) -> Double {
        guard count == 1 else {
            throw TorchError(.invalidArgument, "item() needs one element, the tensor has \(count)", context: "reading a tensor")
        }
        return try scalars(as: Double.self, convert: true)[0]
    }

    public var description: String {
        "Tensor(\(dtype?.rawValue ?? "?"), \(shape), \(device))"
    }
}
