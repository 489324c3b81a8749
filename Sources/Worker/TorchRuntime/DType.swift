import CTorchShim

/// Element type of a tensor, and the precision a module runs in (fp32, fp16, bf16).
public enum DType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Accepts the pack.json spellings and the usual short ones (fp32, fp16, bf16, half, float).
    public init?(name: String) {
        switch name.lowercased() {
        case "float32", "fp32", "float", "f32": self = .float32
        case "float16", "fp16", "half", "f16": self = .float16
        case "bfloat16", "bf16": self = .bfloat16
        case "float64", "fp64", "double": self = .float64
        default:
            guard let d = DType(rawValue: name.lowercased()) else { return nil }
            self = d
        }
    }

    public var description: String { rawValue }

    public var isFloatingPoint: Bool { [.float32, .float16, .bfloat16, .float64].contains(self) }

    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    var ct: ct_dtype {
        switch self {
        case .float32: CT_FLOAT32
        case .float16: CT_FLOAT16
        case .bfloat16: CT_BFLOAT16
        case .float64: CT_FLOAT64
        case .int64: CT_INT64
        case .int32: CT_INT32
        case .int16: CT_INT16
        case .int8: CT_INT8
        case .uint8: CT_UINT8
        case .bool: CT_BOOL
        }
    }

    init?(_ ct: ct_dtype) {
        guard let d = DType.allCases.first(where: { $0.ct == ct }) else { return nil }
        self = d
    }
}

/// Swift element types that map onto a tensor dtype with the same memory layout.
public protocol TensorScalar: Sendable, BitwiseCopyable {
    static var dtype: DType { get }
}

extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Float16: TensorScalar { public static var dtype: DType { .float16 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension Int16: TensorScalar { public static var dtype: DType { .int16 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
