import Engines

/// Flow matching (rectified flow): x_sigma = (1 - sigma) * x0 + sigma * noise; the model predicts the velocity
/// noise - x0, and Euler steps walk sigma from 1 to 0.
public enum FlowMatch {
    /// `steps + 1` sigmas from 1 to 0, evenly spaced then shifted as the family defines:
    /// sigma' = shift * s / (1 + (shift - 1) * s) (shift > 1 spends more steps at high noise).
    public static func sigmas(steps: Int, shift: Double) -> [Double] {
        (0...steps).map { i in
            let s = 1 - Double(i) / Double(steps)
            return shift * s / (1 + (shift - 1) * s)
        }
    }

    /// Classifier-free guidance: uncond + g * (cond - uncond), over `cond` and `uncond` laid end to end in `v`.
    public static func guide(_ v: [Float], guidance: Double) -> [Float] {
        let n = v.count / 2
        let g = Float(guidance)
        return [Float](unsafeUninitializedCapacity: n) { out, count in
            v.withUnsafeBufferPointer { p in
                for i in 0..<n { out[i] = p[n + i] + g * (p[i] - p[n + i]) }
            }
            count = n
        }
    }

    /// x += dt * v, in place.
    public static func euler(_ x: inout [Float], _ v: [Float], dt: Double) {
        let d = Float(dt)
        x.withUnsafeMutableBufferPointer { xp in
            v.withUnsafeBufferPointer { vp in
                for i in 0..<xp.count { xp[i] += d * vp[i] }
            }
        }
    }
}

/// Standard normal noise from a seed (SplitMix64 + Box-Muller): the same seed gives the same latents on every
/// machine, whatever libtorch's generator does.
public struct GaussianNoise {
    private var rng: SeededRandom
    public init(seed: UInt64) { rng = SeededRandom(seed: seed) }
    public mutating func sample(_ count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let u1 = max(rng.unit(), 1e-300), u2 = rng.unit()
            let r = (-2 * _log(u1)).squareRoot()
            out[i] = Float(r * _cos(2 * Double.pi * u2))
            if i + 1 < count { out[i + 1] = Float(r * _sin(2 * Double.pi * u2)) }
            i += 2
        }
        return out
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
