// The Ken Burns resample's two passes (see media_kernels.h). The AVX2 versions give exactly the scalar versions'
// bytes: every product and sum is an integer that fits its lane, so the order of operations cannot change a result.
#include "media_kernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PS_KB_X86 1
#endif

// 16 output columns: each half's taps as byte offsets from its own base, and the weight pairs (256 - w, w) laid out
// as the multiply-add wants them after the shuffle (columns 0-3 and 8-11 in `low`, 4-7 and 12-15 in `high`).
typedef struct {
  uint8_t mask[32];
  int16_t low[16];
  int16_t high[16];
  int32_t base[2];
  int32_t fits;
  int32_t pad;
} block;

static int32_t blocks(int32_t width) { return width / 16; }

size_t ps_kb_plan_size(int32_t width) {
  return (size_t)blocks(width) * sizeof(block) + (size_t)width * (2 * sizeof(int32_t) + sizeof(uint16_t));
}

// The taps follow the blocks: left, right, weight, each `width` long.
static const int32_t *taps_left(const void *plan, int32_t width) {
  return (const int32_t *)((const char *)plan + (size_t)blocks(width) * sizeof(block));
}

void ps_kb_plan(const int32_t *left, const int32_t *right, const uint16_t *weight, int32_t width, void *plan) {
  block *b = (block *)plan;
  int32_t *l = (int32_t *)((char *)plan + (size_t)blocks(width) * sizeof(block));
  int32_t *r = l + width;
  uint16_t *w = (uint16_t *)(r + width);
  memcpy(l, left, (size_t)width * sizeof(int32_t));
  memcpy(r, right, (size_t)width * sizeof(int32_t));
  memcpy(w, weight, (size_t)width * sizeof(uint16_t));
  for (int32_t k = 0; k < blocks(width); k++) {
    block *bk = &b[k];
    memset(bk, 0, sizeof(block));
    bk->fits = 1;
    for (int half = 0; half < 2; half++) {
      int32_t first = k * 16 + half * 8;
      int32_t base = left[first];
      bk->base[half] = base;
      for (int j = 0; j < 8; j++) {
        int32_t x = first + j;
        int32_t dl = left[x] - base, dr = right[x] - base;
        if (dl < 0 || dr < 0 || dl > 15 || dr > 15) bk->fits = 0;
        bk->mask[half * 16 + 2 * j] = (uint8_t)(dl & 15);
        bk->mask[half * 16 + 2 * j + 1] = (uint8_t)(dr & 15);
        // Column j of the half goes to lane `half` of `low` (j < 4) or `high` (j >= 4), as pair j % 4.
        int16_t *pair = (j < 4 ? bk->low : bk->high) + half * 8 + (j % 4) * 2;
        pair[0] = (int16_t)(256 - weight[x]);
        pair[1] = (int16_t)weight[x];
      }
    }
  }
}

static inline void h_columns(const uint8_t *src, const int32_t *l, const int32_t *r, const uint16_t *w, int32_t from,
                             int32_t to, uint16_t *out) {
  for (int32_t x = from; x < to; x++) {
    uint32_t a = src[l[x]], b = src[r[x]], wx = w[x];
    out[x] = (uint16_t)(a * (256 - wx) + b * wx);
  }
}

void ps_kb_row_h_scalar(const uint8_t *src, const void *plan, int32_t width, uint16_t *out) {
  const int32_t *l = taps_left(plan, width), *r = l + width;
  const uint16_t *w = (const uint16_t *)(r + width);
  h_columns(src, l, r, w, 0, width, out);
}

void ps_kb_row_v_scalar(const uint16_t *upper, const uint16_t *lower, uint32_t fy, uint8_t *dst, int32_t width) {
  for (int32_t x = 0; x < width; x++)
    dst[x] = (uint8_t)(((uint32_t)upper[x] * (256 - fy) + (uint32_t)lower[x] * fy + 32768) >> 16);
}

#ifdef PS_KB_X86
__attribute__((target("avx2"))) static void row_h_avx2(const uint8_t *src, const void *plan, int32_t width,
                                                        uint16_t *out) {
  const block *b = (const block *)plan;
  const int32_t *l = taps_left(plan, width), *r = l + width;
  const uint16_t *w = (const uint16_t *)(r + width);
  const __m256i zero = _mm256_setzero_si256();
  int32_t n = blocks(width);
  for (int32_t k = 0; k < n; k++) {
    const block *bk = &b[k];
    if (!bk->fits) {
      h_columns(src, l, r, w, k * 16, k * 16 + 16, out);
      continue;
    }
    __m256i v = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(src + bk->base[0]))),
        _mm_loadu_si128((const __m128i *)(src + bk->base[1])), 1);
    v = _mm256_shuffle_epi8(v, _mm256_loadu_si256((const __m256i *)bk->mask));
    __m256i lo = _mm256_madd_epi16(_mm256_unpacklo_epi8(v, zero), _mm256_loadu_si256((const __m256i *)bk->low));
    __m256i hi = _mm256_madd_epi16(_mm256_unpackhi_epi8(v, zero), _mm256_loadu_si256((const __m256i *)bk->high));
    _mm256_storeu_si256((__m256i *)(out + k * 16), _mm256_packus_epi32(lo, hi));
  }
  h_columns(src, l, r, w, n * 16, width, out);
}

// 16 columns: the 16-bit inputs moved to signed range (x - 32768) so one signed multiply-add takes both rows; the
// 32768 x 256 that removes is added back with the rounding term.
__attribute__((target("avx2"))) static inline __m256i v16(const uint16_t *upper, const uint16_t *lower, __m256i pair,
                                                           __m256i round) {
  const __m256i flip = _mm256_set1_epi16((short)0x8000);
  __m256i u = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)upper), flip);
  __m256i d = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)lower), flip);
  __m256i lo = _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(u, d), pair), round), 16);
  __m256i hi = _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(u, d), pair), round), 16);
  return _mm256_packus_epi32(lo, hi);
}

__attribute__((target("avx2"))) static void row_v_avx2(const uint16_t *upper, const uint16_t *lower, uint32_t fy,
                                                        uint8_t *dst, int32_t width) {
  const __m256i pair = _mm256_set1_epi32((int)((fy << 16) | (256 - fy)));
  const __m256i round = _mm256_set1_epi32(32768 * 256 + 32768);
  int32_t x = 0;
  for (; x + 32 <= width; x += 32) {
    __m256i a = v16(upper + x, lower + x, pair, round), b = v16(upper + x + 16, lower + x + 16, pair, round);
    // packus works within 128-bit lanes: put the four quarters back in order.
    _mm256_storeu_si256((__m256i *)(dst + x), _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8));
  }
  ps_kb_row_v_scalar(upper + x, lower + x, fy, dst + x, width - x);
}

// Reads what the runtime's start-up code found on this CPU: cheap enough to ask once per row.
static int avx2(void) { return __builtin_cpu_supports("avx2") ? 1 : 0; }
#else
static int avx2(void) { return 0; }
#endif

int32_t ps_kb_simd(void) { return avx2(); }

void ps_kb_row_h(const uint8_t *src, const void *plan, int32_t width, uint16_t *out) {
#ifdef PS_KB_X86
  if (avx2()) return row_h_avx2(src, plan, width, out);
#endif
  ps_kb_row_h_scalar(src, plan, width, out);
}

void ps_kb_row_v(const uint16_t *upper, const uint16_t *lower, uint32_t fy, uint8_t *dst, int32_t width) {
#ifdef PS_KB_X86
  if (avx2()) return row_v_avx2(upper, lower, fy, dst, width);
#endif
  ps_kb_row_v_scalar(upper, lower, fy, dst, width);
}
