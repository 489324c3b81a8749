import CTorchShim
import Dispatch
import Synchronization

/// An argument to a TorchScript method.
public enum TorchValue: Sendable {
    case tensor(Tensor)
    case int(Int)
    case double(Double)
    case bool(Bool)
}

/// A loaded TorchScript module on one device, in one precision.
///
/// The handle lives in a Mutex: calls are serialised on it (one forward at a time per module, which is how
/// ProStudio uses the GPU anyway), and `unload()` frees it exactly once even while other references to
/// the object exist; later calls then throw `.unloaded` instead of touching freed memory.
public final class TorchModule: Sendable, CustomStringConvertible {
    private let state: Mutex<Handle?>
    public let path: String
    public let device: Device
    public let dtype: DType

    /// Wraps the raw handle so it can sit in the Mutex.
    /// `@unchecked Sendable`: only ever touched while the Mutex is held.
    private final class Handle: @unchecked Sendable {
        let raw: OpaquePointer
        init(_ raw: OpaquePointer) { self.raw = raw }
        deinit { ct_module_free(raw) }
    }

    /// Loads `path` onto `device`, casting floating-point weights to `dtype` (default: fp16 on CUDA, fp32 on CPU).
    /// Blocking; from async code prefer `load(path:device:dtype:) async`.
    public init(path: String, device: Device = .cpu, dtype: DType? = nil) throws(TorchError) {
        let dtype = dtype ?? device.defaultDType
        TorchModule.applyDefaultsOnce
        var out: OpaquePointer?
        try check("loading \(path) onto \(device) as \(dtype)") { ct_module_load(path, device.description, dtype.ct, &out, $0) }
        self.state = Mutex(Handle(out!))
        self.path = path
        self.device = device
        self.dtype = dtype
    }

    /// Loads on a dedicated thread so the cooperative pool is not blocked while weights are read.
    public static func load(path: String, device: Device = .cpu, dtype: DType? = nil) async throws -> TorchModule {
        try await TorchExecutor.run { try TorchModule(path: path, device: device, dtype: dtype) }
    }

    // The graph executor's re-optimisation per new shape is a multi-second stall on some models; off by
    // default, once, before the first load. Set TorchRuntime.graphExecutorOptimize afterwards to change it.
    private static let applyDefaultsOnce: Void = { ct_set_graph_executor_optimize(false) }()

    public var isLoaded: Bool { state.withLock { $0 != nil } }

    /// Frees the module now (idempotent). The manager calls this before it loads another model.
    public func unload() {
        let handle = state.withLock { h -> Handle? in
            let old = h
            h = nil
            return old
        }
        _ = handle  // released here, outside the lock
    }

    public func hasMethod(_ name: String) -> Bool {
        state.withLock { h in h.map { ct_module_has_method($0.raw, name) } ?? false }
    }

    /// Calls `forward`.
    public func forward(_ args: [TorchValue], convertInputs: Bool = true) throws(TorchError) -> [Tensor] {
        try call("forward", args, convertInputs: convertInputs)
    }

    public func forward(_ tensors: Tensor...) throws(TorchError) -> [Tensor] {
        try call("forward", tensors.map { .tensor($0) })
    }

    /// Calls any method the module exports. A returned tuple or list is flattened in order; a lone tensor
    /// comes back as a one-element array. With `convertInputs`, tensors are first moved to the module's
    /// device and floating-point ones cast to its dtype (integer inputs keep their type).
    public func call(_ method: String, _ args: [TorchValue], convertInputs: Bool = true) throws(TorchError) -> [Tensor] {
        var prepared: [TorchValue] = []
        prepared.reserveCapacity(args.count)
        for arg in args {
            if convertInputs, case .tensor(let t) = arg, let dt = t.dtype {
                prepared.append(.tensor(try t.to(device, dtype: dt.isFloatingPoint ? dtype : dt)))
            } else {
                prepared.append(arg)
            }
        }
        let context = "calling \(method) of \(path)"
        return try state.withLock { (h) throws(TorchError) -> [Tensor] in
            guard let h else { throw TorchError(.unloaded, "the module was unloaded", context: context) }
            guard let argList = ct_args_new() else { throw TorchError(.outOfMemory, "no memory for arguments", context: context) }
            defer { ct_args_free(argList) }
            for arg in prepared {
                switch arg {
                case .tensor(let t): ct_args_push_tensor(argList, t.handle)
                case .int(let v): ct_args_push_int(argList, Int64(v))
                case .double(let v): ct_args_push_double(argList, v)
                case .bool(let v): ct_args_push_bool(argList, v)
                }
            }
            var list: OpaquePointer?
            try check(context) { ct_module_call(h.raw, method, argList, &list, $0) }
            defer { ct_tensor_list_free(list) }
            withExtendedLifetime(prepared) {}
            return (0..<ct_tensor_list_size(list)).compactMap { i in ct_tensor_list_get(list, i).map(Tensor.init(owning:)) }
        }
    }

    /// `call` on a dedicated thread, for async callers (a forward can take seconds).
    public func callAsync(_ method: String = "forward", _ args: [TorchValue], convertInputs: Bool = true) async throws -> [Tensor] {
        try await TorchExecutor.run { try self.call(method, args, convertInputs: convertInputs) }
    }

    public var description: String { "TorchModule(\(path), \(device), \(dtype))" }
}

/// One serial queue for blocking libtorch work, off the cooperative pool (2 threads on small machines).
/// Serial on purpose: model work on the device is sequential by design.
public enum TorchExecutor {
    private static let queue = DispatchQueue(label: "prostudio.torch", qos: .userInitiated)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
