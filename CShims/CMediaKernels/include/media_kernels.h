// Pixel kernels Media draws frames with, where Swift cannot reach the instructions that make them cheap
// (byte shuffles and 16-bit multiply-adds). Each has a portable scalar version giving the same bytes; the AVX2
// one is chosen at run time, so the binary still runs on a CPU without it. Media wraps them once (KenBurnsKernel.swift).
#ifndef MEDIA_KERNELS_H
#define MEDIA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// The Ken Burns resample: a separable bilinear filter in fixed point (weights of 256), in two passes.
//
// Horizontal: out[x] = src[left[x]] * (256 - weight[x]) + src[right[x]] * weight[x]   (at most 65,280: 16 bits)
// Vertical:   dst[x] = (upper[x] * (256 - fy) + lower[x] * fy + 32768) >> 16
//
// A plan, made once per plane and frame from the columns' taps, turns each run of 16 output columns into two
// 16-byte loads and a byte shuffle (when the run's taps span at most 16 source bytes a half, which holds for any
// zoom below about 1.75); a run that spans more is done tap by tap.

/// Bytes a plan for `width` output columns needs.
size_t ps_kb_plan_size(int32_t width);

/// Fills `plan` (ps_kb_plan_size(width) bytes) from the taps of `width` columns: left[x] <= right[x], both
/// non-decreasing in x, weight[x] in 0...256.
void ps_kb_plan(const int32_t *left, const int32_t *right, const uint16_t *weight, int32_t width, void *plan);

/// The horizontal pass over one source row. `src` must be readable 16 bytes past the largest left tap.
void ps_kb_row_h(const uint8_t *src, const void *plan, int32_t width, uint16_t *out);

/// The vertical pass: one output row from two horizontally resampled rows, fy in 0...256.
void ps_kb_row_v(const uint16_t *upper, const uint16_t *lower, uint32_t fy, uint8_t *dst, int32_t width);

/// The same passes without SIMD, for CPUs without AVX2 and as the reference the tests hold the fast ones to.
void ps_kb_row_h_scalar(const uint8_t *src, const void *plan, int32_t width, uint16_t *out);
void ps_kb_row_v_scalar(const uint16_t *upper, const uint16_t *lower, uint32_t fy, uint8_t *dst, int32_t width);

/// 1 when the fast (AVX2) passes are in use on this CPU.
int32_t ps_kb_simd(void);

#endif
