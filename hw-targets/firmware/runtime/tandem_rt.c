/*
 * Tandem int8 runtime (contract: tandem_rt.h; blob layout: docs/blob-format.md; arithmetic:
 * docs/int8-semantics.md, bit for bit with compiler/passes/quantize/int8-executor.ts).
 * C99, no allocation, no libm: every rounding is integer (64-bit products, ties away from zero).
 * The blob is read byte by byte (it may sit at any address); activations live in the caller's arena
 * at offsets planned once in trt_load (first fit over value lifetimes), with one int32 scratch area
 * (accumulators and the layer's per-channel constants) after them.
 */
#include "tandem_rt.h"

#include <stddef.h>
#include <string.h>

#define HDR_BYTES 48u
#define REC_BYTES 104u
#define FORMAT_VERSION 1u
#define MAX_IN 4u
/* int32 accumulators: |q_x - z_x| <= 255, |q_w| <= 127, so at most this many terms per output */
#define MAX_TERMS 66311u
#define RESCALE_ONE 65536 /* add/concat rescale at 16 fractional bits */

/* op codes (docs/blob-format.md) */
enum {
  OP_CONV = 1, OP_DW = 2, OP_DENSE = 3, OP_RELU = 4, OP_RELU6 = 5, OP_MAXPOOL = 6, OP_AVGPOOL = 7,
  OP_GAP = 8, OP_ADD = 9, OP_CONCAT = 10, OP_FLATTEN = 11, OP_RESHAPE = 12, OP_DROPOUT = 13,
  OP_PAD = 14, OP_SOFTMAX = 15
};

/* header and layer-record field offsets */
#define H_VERSION 4u
#define H_FLAGS 6u
#define H_TOTAL 8u
#define H_CRC 12u
#define H_NLAYERS 16u
#define H_OUTPUT 18u
#define H_SHAPE 20u
#define H_BITS 26u
#define H_ZP 28u
#define H_LAYERS 36u
#define H_DATA 40u
#define R_OP 0u
#define R_NIN 1u
#define R_FLAGS 2u
#define R_NAME 4u
#define R_INPUTS 36u
#define R_SHAPE 44u
#define R_ZP 52u
#define R_KERNEL 60u
#define R_STRIDES 64u
#define R_DILATIONS 68u
#define R_PADS 72u
#define R_PARAM 80u
#define R_MACS 84u
#define R_WEIGHTS 88u
#define R_BIAS 92u
#define R_M0 96u
#define R_SHIFT 100u

/* trt_layer.aux slots */
enum {
  A_REC = 0,      /* record offset in the blob */
  A_OUT = 1,      /* output's arena offset */
  A_IN = 2,       /* 2..5: inputs' arena offsets */
  A_OUTN = 6,     /* output codes */
  A_SCRATCH = 7,  /* int32 scratch offset (4-byte aligned address) */
  A_INH = 8,      /* 8..10: input 0's h, w, c */
  A_ZP = 11,      /* inputs' zero points, one byte each */
  A_INC = 12      /* 12..15: inputs' channels (concat) */
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
/* two's complement without implementation-defined conversions */
static int32_t rdi32(const uint8_t *p) {
  uint32_t u = rd32(p);
  return u <= 0x7fffffffu ? (int32_t)u : -(int32_t)(~u) - 1;
}
static int32_t s8(uint32_t b) { b &= 0xffu; return b >= 128u ? (int32_t)b - 256 : (int32_t)b; }

static int32_t clamp8(int64_t v) { return v < -128 ? -128 : v > 127 ? 127 : (int32_t)v; }

/*
 * x * m0 / 2^(31 - shift), rounded once, ties away from zero, saturated to int32 (mul() of
 * int8-semantics.md). On magnitudes: |x| <= 2^32 and m0 < 2^31 keep |x|·m0 + 2^51 below 2^64.
 */
static int32_t mulq(int64_t x, int32_t m0, int32_t shift) {
  unsigned n = (unsigned)(31 - shift);
  int neg = x < 0;
  uint64_t ax = neg ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
  uint64_t r = (ax * (uint64_t)(uint32_t)m0 + ((uint64_t)1 << (n - 1u))) >> n;
  if (neg) return r >= 2147483648u ? INT32_MIN : -(int32_t)r;
  return r > 2147483647u ? INT32_MAX : (int32_t)r;
}

/* sign(s) · floor((|s| + floor(n/2)) / n), n > 0 */
static int64_t rounded_divide(int64_t s, int64_t n) {
  return s < 0 ? -((-s + n / 2) / n) : (s + n / 2) / n;
}

/* CRC-32/ISO-HDLC with a 16-entry table (64 bytes of flash instead of 1 KiB) */
static uint32_t crc32(const uint8_t *p, uint32_t n) {
  static const uint32_t t[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
    0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu
  };
  uint32_t c = 0xffffffffu;
  uint32_t i;
  for (i = 0; i < n; i++) {
    c ^= p[i];
    c = (c >> 4) ^ t[c & 15u];
    c = (c >> 4) ^ t[c & 15u];
  }
  return c ^ 0xffffffffu;
}

const char *trt_status_text(trt_status s) {
  switch (s) {
    case TRT_OK: return "ok";
    case TRT_ERR_MAGIC: return "not a Tandem blob (bad magic)";
    case TRT_ERR_VERSION: return "blob format version not supported";
    case TRT_ERR_CRC: return "blob checksum (CRC-32) mismatch";
    case TRT_ERR_TRUNCATED: return "blob truncated: a section or tensor runs past its end";
    case TRT_ERR_UNKNOWN_OP: return "unknown op code";
    case TRT_ERR_ARENA: return "activations do not fit the arena";
    case TRT_ERR_SHAPE: return "inconsistent shapes or attributes";
    case TRT_ERR_UNSUPPORTED: return "feature not supported by this runtime";
    case TRT_ERR_TOO_MANY_LAYERS: return "more layers than TRT_MAX_LAYERS";
    case TRT_ERR_ARG: return "bad argument (NULL pointer or model not loaded)";
  }
  return "unknown status";
}

/* ---------- loading: checks ---------- */

typedef struct {
  uint32_t h, w, c; /* shape */
  int32_t zp;
} value_info;

static uint32_t nelem(const value_info *v) { return v->h * v->w * v->c; }

/* A tensor of `bytes` bytes at `off` must lie in the data section. */
static int tensor_ok(uint32_t off, uint64_t bytes, uint32_t data_off, uint32_t total) {
  return off >= data_off && (uint64_t)off + bytes <= total;
}

/* Output size of a window op along one axis; 0 when the padded input is smaller than the window. */
static uint32_t window_out(uint32_t in, uint32_t pad0, uint32_t pad1, uint32_t k, uint32_t stride, uint32_t dil) {
  uint32_t span = (k - 1u) * dil + 1u;
  uint32_t padded = in + pad0 + pad1;
  return padded < span ? 0u : (padded - span) / stride + 1u;
}

/* Checks layer i's record against its inputs; fills its public fields and the shape/zp aux slots. */
static trt_status check_layer(trt_model *m, uint16_t i, const value_info *vals, value_info *out,
                              uint32_t data_off, uint32_t total, uint32_t *scratch_words) {
  trt_layer *L = &m->layers[i];
  const uint8_t *r = m->blob + HDR_BYTES + (uint32_t)i * REC_BYTES;
  uint8_t op = r[R_OP];
  uint32_t nin = r[R_NIN], k, zps = 0;
  const value_info *in0;
  uint32_t kh = rd16(r + R_KERNEL), kw = rd16(r + R_KERNEL + 2);
  uint32_t sh = rd16(r + R_STRIDES), sw = rd16(r + R_STRIDES + 2);
  uint32_t dh = rd16(r + R_DILATIONS), dw = rd16(r + R_DILATIONS + 2);
  uint32_t pt = rd16(r + R_PADS), pl = rd16(r + R_PADS + 2), pb = rd16(r + R_PADS + 4), pr = rd16(r + R_PADS + 6);
  int32_t param = rdi32(r + R_PARAM);
  uint32_t woff = rd32(r + R_WEIGHTS), boff = rd32(r + R_BIAS), moff = rd32(r + R_M0), soff = rd32(r + R_SHIFT);
  uint32_t nmul = 0; /* multipliers in the record: per output channel, or per input */
  uint64_t wbytes = 0;
  int keeps_params = 0;

  L->op = op;
  for (k = 0; k < 31u && r[R_NAME + k] != 0; k++) L->name[k] = (char)r[R_NAME + k];
  L->name[k] = '\0';
  L->macs = rd32(r + R_MACS);
  L->aux[A_REC] = HDR_BYTES + (uint32_t)i * REC_BYTES;

  if (op < OP_CONV || op > OP_SOFTMAX) return TRT_ERR_UNKNOWN_OP;
  if (nin < 1u || nin > MAX_IN) return TRT_ERR_SHAPE;
  if ((op == OP_ADD || op == OP_CONCAT) ? nin < 2u : nin != 1u) return TRT_ERR_SHAPE;
  for (k = 0; k < nin; k++) {
    uint32_t v = rd16(r + R_INPUTS + 2u * k);
    if (v > i) return TRT_ERR_SHAPE; /* only values made before this layer */
    zps |= ((uint32_t)vals[v].zp & 0xffu) << (8u * k);
    L->aux[A_INC + k] = vals[v].c;
  }
  in0 = &vals[rd16(r + R_INPUTS)];
  L->aux[A_INH] = in0->h;
  L->aux[A_INH + 1] = in0->w;
  L->aux[A_INH + 2] = in0->c;
  L->aux[A_ZP] = zps;
  out->h = rd16(r + R_SHAPE);
  out->w = rd16(r + R_SHAPE + 2);
  out->c = rd16(r + R_SHAPE + 4);
  out->zp = rdi32(r + R_ZP);
  if (out->h == 0 || out->w == 0 || out->c == 0) return TRT_ERR_SHAPE;
  if ((uint64_t)out->h * out->w * out->c > 0x7fffffffu) return TRT_ERR_SHAPE;
  if (out->zp < -128 || out->zp > 127) return TRT_ERR_SHAPE;
  if (rd16(r + R_FLAGS) & ~(op == OP_AVGPOOL ? 1u : 0u)) return TRT_ERR_UNSUPPORTED;

  switch (op) {
    case OP_CONV:
    case OP_DW:
      if (kh == 0 || kw == 0 || sh == 0 || sw == 0 || dh == 0 || dw == 0) return TRT_ERR_SHAPE;
      if (out->h != window_out(in0->h, pt, pb, kh, sh, dh) || out->w != window_out(in0->w, pl, pr, kw, sw, dw)) return TRT_ERR_SHAPE;
      if (op == OP_CONV) {
        if ((uint64_t)kh * kw * in0->c > MAX_TERMS) return TRT_ERR_UNSUPPORTED;
        wbytes = (uint64_t)kh * kw * in0->c * out->c;
      } else {
        if (param < 1 || (uint64_t)in0->c * (uint32_t)param != out->c) return TRT_ERR_SHAPE;
        if ((uint64_t)kh * kw > MAX_TERMS) return TRT_ERR_UNSUPPORTED;
        wbytes = (uint64_t)kh * kw * out->c;
      }
      nmul = out->c;
      break;
    case OP_DENSE:
      if (out->h != 1u || out->w != 1u) return TRT_ERR_SHAPE;
      if (nelem(in0) > MAX_TERMS) return TRT_ERR_UNSUPPORTED;
      wbytes = (uint64_t)nelem(in0) * out->c;
      nmul = out->c;
      break;
    case OP_RELU:
    case OP_RELU6:
      if (out->h != in0->h || out->w != in0->w || out->c != in0->c) return TRT_ERR_SHAPE;
      if (op == OP_RELU6 && (param < -128 || param > 127)) return TRT_ERR_SHAPE;
      keeps_params = 1;
      break;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
      if (kh == 0 || kw == 0 || sh == 0 || sw == 0) return TRT_ERR_SHAPE;
      if (out->c != in0->c || out->h != window_out(in0->h, pt, pb, kh, sh, 1u) || out->w != window_out(in0->w, pl, pr, kw, sw, 1u)) return TRT_ERR_SHAPE;
      keeps_params = 1;
      break;
    case OP_GAP:
      if (out->h != 1u || out->w != 1u || out->c != in0->c) return TRT_ERR_SHAPE;
      keeps_params = 1;
      break;
    case OP_ADD:
      for (k = 0; k < nin; k++) {
        const value_info *v = &vals[rd16(r + R_INPUTS + 2u * k)];
        if (v->h != out->h || v->w != out->w || v->c != out->c) return TRT_ERR_SHAPE;
      }
      nmul = nin;
      break;
    case OP_CONCAT: {
      uint32_t sum = 0;
      for (k = 0; k < nin; k++) {
        const value_info *v = &vals[rd16(r + R_INPUTS + 2u * k)];
        if (v->h != out->h || v->w != out->w) return TRT_ERR_SHAPE;
        sum += v->c;
      }
      if (sum != out->c) return TRT_ERR_SHAPE;
      nmul = nin;
      break;
    }
    case OP_FLATTEN:
    case OP_RESHAPE:
    case OP_DROPOUT:
    case OP_SOFTMAX:
      if (nelem(out) != nelem(in0)) return TRT_ERR_SHAPE;
      if (op == OP_SOFTMAX && i + 1u != m->n_layers) return TRT_ERR_SHAPE; /* a final softmax only */
      keeps_params = 1;
      break;
    case OP_PAD:
      if (out->c != in0->c || out->h != in0->h + pt + pb || out->w != in0->w + pl + pr) return TRT_ERR_SHAPE;
      if (param < -128 || param > 127) return TRT_ERR_SHAPE;
      keeps_params = 1;
      break;
    default:
      return TRT_ERR_UNKNOWN_OP;
  }
  if (keeps_params && out->zp != in0->zp) return TRT_ERR_SHAPE;
  if (wbytes) {
    if (!tensor_ok(woff, wbytes, data_off, total) || !tensor_ok(boff, 4u * (uint64_t)out->c, data_off, total)) return TRT_ERR_TRUNCATED;
  }
  if (nmul) {
    if (!tensor_ok(moff, 4u * (uint64_t)nmul, data_off, total) || !tensor_ok(soff, nmul, data_off, total)) return TRT_ERR_TRUNCATED;
    for (k = 0; k < nmul; k++) {
      int32_t m0 = rdi32(m->blob + moff + 4u * k), s = s8(m->blob[soff + k]);
      if (m0 < 0 || s < -21 || s > 30) return TRT_ERR_SHAPE;
    }
  }
  /* scratch: int32 accumulators, and for weighted ops bias, m0, shift per channel */
  {
    uint32_t words = 0;
    if (wbytes) words = 4u * out->c;
    else if (op == OP_MAXPOOL || op == OP_AVGPOOL || op == OP_GAP) words = out->c;
    if (words > *scratch_words) *scratch_words = words;
  }
  return TRT_OK;
}

/* ---------- loading: arena plan ---------- */

static int is_alias(uint8_t op) { return op == OP_FLATTEN || op == OP_RESHAPE || op == OP_DROPOUT || op == OP_SOFTMAX; }

/*
 * Buffers: value 0 (the input) and every layer's output, except aliases (no-op layers share their
 * input's buffer) and a relu/relu6 whose input buffer is read by no later layer (computed in place).
 * Buffer b lives from its time of definition to its last read (time = layer index + 1, the input 0,
 * the model output to the end); each buffer goes at the lowest 4-aligned offset that overlaps no
 * placed buffer alive at the same time.
 */
static uint32_t plan_arena(trt_model *m, const value_info *vals) {
  uint16_t buf_of[TRT_MAX_LAYERS + 1];
  uint32_t first[TRT_MAX_LAYERS + 1], last[TRT_MAX_LAYERS + 1], size[TRT_MAX_LAYERS + 1], off[TRT_MAX_LAYERS + 1];
  uint32_t last_use[TRT_MAX_LAYERS + 1];
  uint32_t n = m->n_layers, nb = 0, i, k, b, end = 0;

  for (i = 0; i <= n; i++) last_use[i] = i;
  last_use[n] = n + 1u;
  for (i = 0; i < n; i++) {
    const uint8_t *r = m->blob + m->layers[i].aux[A_REC];
    for (k = 0; k < r[R_NIN]; k++) {
      uint32_t v = rd16(r + R_INPUTS + 2u * k);
      if (last_use[v] < i + 1u) last_use[v] = i + 1u;
    }
  }
  buf_of[0] = 0;
  first[0] = 0;
  last[0] = last_use[0];
  size[0] = nelem(&vals[0]);
  nb = 1;
  for (i = 0; i < n; i++) {
    const uint8_t *r = m->blob + m->layers[i].aux[A_REC];
    uint8_t op = r[R_OP];
    uint32_t in_buf = buf_of[rd16(r + R_INPUTS)];
    if (is_alias(op) || ((op == OP_RELU || op == OP_RELU6) && last[in_buf] == i + 1u)) {
      buf_of[i + 1] = (uint16_t)in_buf;
      if (last[in_buf] < last_use[i + 1]) last[in_buf] = last_use[i + 1];
    } else {
      buf_of[i + 1] = (uint16_t)nb;
      first[nb] = i + 1u;
      last[nb] = last_use[i + 1];
      size[nb] = nelem(&vals[i + 1]);
      nb++;
    }
  }
  for (b = 0; b < nb; b++) {
    uint32_t cand = 0;
    int moved = 1;
    while (moved) { /* bump past every conflicting buffer until none overlaps */
      moved = 0;
      for (k = 0; k < b; k++) {
        int alive = first[k] <= last[b] && first[b] <= last[k];
        if (alive && cand < off[k] + size[k] && off[k] < cand + size[b]) {
          cand = (off[k] + size[k] + 3u) & ~3u;
          moved = 1;
        }
      }
    }
    off[b] = cand;
    if ((uint64_t)cand + size[b] > 0xfffffff0u) return 0xffffffffu; /* beyond any uint32 arena */
    if (cand + size[b] > end) end = cand + size[b];
  }
  for (i = 0; i < n; i++) {
    trt_layer *L = &m->layers[i];
    const uint8_t *r = m->blob + L->aux[A_REC];
    L->aux[A_OUT] = off[buf_of[i + 1]];
    L->aux[A_OUTN] = nelem(&vals[i + 1]);
    for (k = 0; k < MAX_IN; k++) L->aux[A_IN + k] = k < r[R_NIN] ? off[buf_of[rd16(r + R_INPUTS + 2u * k)]] : 0u;
  }
  return end;
}

trt_status trt_load(trt_model *m, const uint8_t *blob, uint32_t blob_len, uint8_t *arena, uint32_t arena_len) {
  value_info vals[TRT_MAX_LAYERS + 1];
  uint32_t total, n, data_off, scratch_words = 0, act, scratch;
  uint16_t i;
  trt_status st;

  if (!m) return TRT_ERR_ARG;
  memset(m, 0, sizeof *m);
  m->error_layer = 0xFFFFu;
  if (!blob) return TRT_ERR_ARG;
  m->blob = blob;
  m->blob_len = blob_len;
  m->arena = arena;
  m->arena_len = arena_len;
  if (blob_len < HDR_BYTES || blob[0] != 'T' || blob[1] != 'N' || blob[2] != 'D' || blob[3] != 'M') return TRT_ERR_MAGIC;
  if (rd16(blob + H_VERSION) != FORMAT_VERSION) return TRT_ERR_VERSION;
  total = rd32(blob + H_TOTAL);
  if (total > blob_len || total < HDR_BYTES) return TRT_ERR_TRUNCATED;
  if (crc32(blob + HDR_BYTES, total - HDR_BYTES) != rd32(blob + H_CRC)) return TRT_ERR_CRC;
  if (rd16(blob + H_FLAGS) != 0 || blob[H_BITS] != 8u) return TRT_ERR_UNSUPPORTED;
  n = rd16(blob + H_NLAYERS);
  if (n == 0 || rd32(blob + H_LAYERS) != HDR_BYTES || rd16(blob + H_OUTPUT) != n) return TRT_ERR_SHAPE;
  if (n > TRT_MAX_LAYERS) return TRT_ERR_TOO_MANY_LAYERS;
  data_off = rd32(blob + H_DATA);
  if (data_off != HDR_BYTES + n * REC_BYTES) return TRT_ERR_SHAPE;
  if (data_off > total) return TRT_ERR_TRUNCATED;
  m->blob_len = total;
  m->n_layers = (uint16_t)n;

  vals[0].h = rd16(blob + H_SHAPE);
  vals[0].w = rd16(blob + H_SHAPE + 2);
  vals[0].c = rd16(blob + H_SHAPE + 4);
  vals[0].zp = rdi32(blob + H_ZP);
  if (vals[0].h == 0 || vals[0].w == 0 || vals[0].c == 0 || vals[0].zp < -128 || vals[0].zp > 127) return TRT_ERR_SHAPE;
  if ((uint64_t)vals[0].h * vals[0].w * vals[0].c > 0x7fffffffu) return TRT_ERR_SHAPE;
  for (i = 0; i < n; i++) {
    st = check_layer(m, i, vals, &vals[i + 1], data_off, total, &scratch_words);
    if (st != TRT_OK) {
      m->error_layer = (uint16_t)i;
      m->n_layers = 0; /* trt_run refuses a model that did not load */
      return st;
    }
  }
  m->input_size = nelem(&vals[0]);
  m->output_size = nelem(&vals[n]);

  act = plan_arena(m, vals);
  if (act == 0xffffffffu || (uint64_t)act + 8u + 16u * (uint64_t)scratch_words > 0xffffffffu) {
    m->n_layers = 0;
    return TRT_ERR_ARENA;
  }
  /* the int32 scratch at a 4-byte aligned address */
  scratch = (act + 3u) & ~3u;
  scratch += (uint32_t)((4u - (uint32_t)(((uintptr_t)arena + scratch) & 3u)) & 3u);
  for (i = 0; i < n; i++) m->layers[i].aux[A_SCRATCH] = scratch;
  m->arena_used = scratch_words ? scratch + 4u * scratch_words : act;
  if (!arena || m->arena_used > arena_len) {
    m->n_layers = 0;
    return TRT_ERR_ARENA; /* arena_used says how much is needed */
  }
  m->n_layers = (uint16_t)n;
  return TRT_OK;
}

/* ---------- execution ---------- */

typedef struct {
  const uint8_t *r; /* the layer's record */
  const int8_t *x;  /* input 0 */
  int8_t *y;
  int32_t *scratch;
  uint32_t h, w, c; /* input 0 */
  uint32_t oh, ow, oc;
  int32_t zx, zy;
} ctx_t;

/* bias, m0, shift per output channel into scratch [c, 2c, 3c), accumulators at [0, c) */
static void load_channel_consts(const trt_model *m, const ctx_t *t) {
  const uint8_t *b = m->blob + rd32(t->r + R_BIAS), *mo = m->blob + rd32(t->r + R_M0), *sh = m->blob + rd32(t->r + R_SHIFT);
  int32_t *bias = t->scratch + t->oc, *m0 = bias + t->oc, *shift = m0 + t->oc;
  uint32_t c;
  for (c = 0; c < t->oc; c++) {
    bias[c] = rdi32(b + 4u * c);
    m0[c] = rdi32(mo + 4u * c);
    shift[c] = s8(sh[c]);
  }
}

/* q_y[c] = clamp(z_y + mul(acc[c] + q_b[c], M[c])) */
static void requantize(const ctx_t *t, int8_t *y) {
  const int32_t *acc = t->scratch, *bias = acc + t->oc, *m0 = bias + t->oc, *shift = m0 + t->oc;
  uint32_t c;
  for (c = 0; c < t->oc; c++) y[c] = (int8_t)clamp8((int64_t)t->zy + mulq((int64_t)acc[c] + bias[c], m0[c], shift[c]));
}

static void run_conv(const trt_model *m, const ctx_t *t, int depthwise) {
  const uint8_t *r = t->r;
  const int8_t *w = (const int8_t *)(m->blob + rd32(r + R_WEIGHTS));
  uint32_t kh = rd16(r + R_KERNEL), kw = rd16(r + R_KERNEL + 2);
  uint32_t sh = rd16(r + R_STRIDES), sw = rd16(r + R_STRIDES + 2);
  uint32_t dh = rd16(r + R_DILATIONS), dw = rd16(r + R_DILATIONS + 2);
  int32_t pt = rd16(r + R_PADS), pl = rd16(r + R_PADS + 2);
  uint32_t mult = depthwise ? (uint32_t)rdi32(r + R_PARAM) : 1u;
  uint32_t C = t->c, Co = t->oc, oh, ow, i, j, ci, c;
  int32_t *acc = t->scratch;
  load_channel_consts(m, t);
  for (oh = 0; oh < t->oh; oh++) {
    for (ow = 0; ow < t->ow; ow++) {
      memset(acc, 0, Co * sizeof *acc);
      for (i = 0; i < kh; i++) {
        int32_t ih = (int32_t)(oh * sh + i * dh) - pt;
        if (ih < 0 || ih >= (int32_t)t->h) continue; /* padding: q = z_x contributes 0 */
        for (j = 0; j < kw; j++) {
          int32_t iw = (int32_t)(ow * sw + j * dw) - pl;
          const int8_t *xp;
          if (iw < 0 || iw >= (int32_t)t->w) continue;
          xp = t->x + ((uint32_t)ih * t->w + (uint32_t)iw) * C;
          if (!depthwise) {
            const int8_t *wp = w + (i * kw + j) * C * Co;
            for (ci = 0; ci < C; ci++) {
              int32_t xv = xp[ci] - t->zx;
              const int8_t *wr = wp + ci * Co;
              if (xv == 0) continue;
              for (c = 0; c < Co; c++) acc[c] += xv * wr[c];
            }
          } else {
            const int8_t *wr = w + (i * kw + j) * Co; /* [kh, kw, C, mult]: output channel ci·mult + k */
            if (mult == 1u) {
              for (c = 0; c < Co; c++) acc[c] += (xp[c] - t->zx) * wr[c];
            } else {
              for (c = 0; c < Co; c++) acc[c] += (xp[c / mult] - t->zx) * wr[c];
            }
          }
        }
      }
      requantize(t, t->y + (oh * t->ow + ow) * Co);
    }
  }
}

static void run_dense(const trt_model *m, const ctx_t *t) {
  const int8_t *w = (const int8_t *)(m->blob + rd32(t->r + R_WEIGHTS));
  uint32_t n = t->h * t->w * t->c, Co = t->oc, i, u;
  int32_t *acc = t->scratch;
  load_channel_consts(m, t);
  memset(acc, 0, Co * sizeof *acc);
  for (i = 0; i < n; i++) {
    int32_t xv = t->x[i] - t->zx;
    const int8_t *wr = w + i * Co;
    if (xv == 0) continue;
    for (u = 0; u < Co; u++) acc[u] += xv * wr[u];
  }
  requantize(t, t->y);
}

static void run_pool(const ctx_t *t, int is_max) {
  const uint8_t *r = t->r;
  uint32_t kh = rd16(r + R_KERNEL), kw = rd16(r + R_KERNEL + 2);
  uint32_t sh = rd16(r + R_STRIDES), sw = rd16(r + R_STRIDES + 2);
  int32_t pt = rd16(r + R_PADS), pl = rd16(r + R_PADS + 2);
  int include_pad = !is_max && (rd16(r + R_FLAGS) & 1u);
  uint32_t C = t->c, oh, ow, i, j, c;
  int32_t *acc = t->scratch, z = t->zx;
  for (oh = 0; oh < t->oh; oh++) {
    for (ow = 0; ow < t->ow; ow++) {
      int8_t *y = t->y + (oh * t->ow + ow) * C;
      int32_t count = 0;
      for (c = 0; c < C; c++) acc[c] = is_max ? -129 : 0;
      for (i = 0; i < kh; i++) {
        int32_t ih = (int32_t)(oh * sh + i) - pt;
        for (j = 0; j < kw; j++) {
          int32_t iw = (int32_t)(ow * sw + j) - pl;
          const int8_t *xp;
          if (ih < 0 || ih >= (int32_t)t->h || iw < 0 || iw >= (int32_t)t->w) {
            if (include_pad) count++;
            continue;
          }
          count++;
          xp = t->x + ((uint32_t)ih * t->w + (uint32_t)iw) * C;
          if (is_max) {
            for (c = 0; c < C; c++) if (xp[c] > acc[c]) acc[c] = xp[c];
          } else {
            for (c = 0; c < C; c++) acc[c] += xp[c] - z;
          }
        }
      }
      /* a window with nothing to count gives 0, as the executor's Int32Array stores -Infinity/NaN */
      for (c = 0; c < C; c++) {
        if (is_max) y[c] = (int8_t)(acc[c] < -128 ? 0 : acc[c]);
        else y[c] = (int8_t)(count == 0 ? 0 : z + (int32_t)rounded_divide(acc[c], count));
      }
    }
  }
}

static void run_gap(const ctx_t *t) {
  uint32_t C = t->c, P = t->h * t->w, p, c;
  int32_t *acc = t->scratch;
  memset(acc, 0, C * sizeof *acc);
  for (p = 0; p < P; p++)
    for (c = 0; c < C; c++) acc[c] += t->x[p * C + c] - t->zx;
  for (c = 0; c < C; c++) t->y[c] = (int8_t)(t->zx + (int32_t)rounded_divide(acc[c], (int64_t)P));
}

/* add and concat: t_i = mul((q_i - z_i)·2^16, M_i), rounded once back to codes */
static int32_t rescaled(const trt_model *m, const trt_layer *L, uint32_t k, int32_t q) {
  const uint8_t *r = m->blob + L->aux[A_REC];
  return mulq((int64_t)(q - s8(L->aux[A_ZP] >> (8u * k))) * RESCALE_ONE, rdi32(m->blob + rd32(r + R_M0) + 4u * k), s8(m->blob[rd32(r + R_SHIFT) + k]));
}

static void run_add(const trt_model *m, const trt_layer *L, const ctx_t *t) {
  uint32_t nin = t->r[R_NIN], k, e, nel = t->oh * t->ow * t->oc;
  for (e = 0; e < nel; e++) {
    int64_t sum = 0;
    for (k = 0; k < nin; k++) sum += rescaled(m, L, k, ((const int8_t *)(m->arena + L->aux[A_IN + k]))[e]);
    t->y[e] = (int8_t)clamp8(t->zy + rounded_divide(sum, RESCALE_ONE));
  }
}

static void run_concat(const trt_model *m, const trt_layer *L, const ctx_t *t) {
  uint32_t nin = t->r[R_NIN], k, p, c, P = t->oh * t->ow, off = 0;
  for (k = 0; k < nin; k++) {
    const int8_t *x = (const int8_t *)(m->arena + L->aux[A_IN + k]);
    uint32_t ci = L->aux[A_INC + k];
    for (p = 0; p < P; p++)
      for (c = 0; c < ci; c++) t->y[p * t->oc + off + c] = (int8_t)clamp8(t->zy + rounded_divide(rescaled(m, L, k, x[p * ci + c]), RESCALE_ONE));
    off += ci;
  }
}

static void run_pad(const ctx_t *t) {
  uint32_t pt = rd16(t->r + R_PADS), pl = rd16(t->r + R_PADS + 2), h;
  memset(t->y, (int)(int8_t)rdi32(t->r + R_PARAM), (size_t)t->oh * t->ow * t->oc);
  for (h = 0; h < t->h; h++) memcpy(t->y + ((h + pt) * t->ow + pl) * t->oc, t->x + h * t->w * t->c, (size_t)t->w * t->c);
}

trt_status trt_run(trt_model *m, const int8_t *input, int8_t *output, trt_layer_hook hook, void *ctx) {
  uint16_t i;
  if (!m || !input || !output || m->n_layers == 0 || !m->arena) return TRT_ERR_ARG;
  /* value 0 is the first buffer placed: arena offset 0 */
  memcpy(m->arena, input, m->input_size);
  for (i = 0; i < m->n_layers; i++) {
    const trt_layer *L = &m->layers[i];
    ctx_t t;
    uint32_t e, n;
    t.r = m->blob + L->aux[A_REC];
    t.x = (const int8_t *)(m->arena + L->aux[A_IN]);
    t.y = (int8_t *)(m->arena + L->aux[A_OUT]);
    t.scratch = (int32_t *)(void *)(m->arena + L->aux[A_SCRATCH]);
    t.h = L->aux[A_INH];
    t.w = L->aux[A_INH + 1];
    t.c = L->aux[A_INH + 2];
    t.oh = rd16(t.r + R_SHAPE);
    t.ow = rd16(t.r + R_SHAPE + 2);
    t.oc = rd16(t.r + R_SHAPE + 4);
    t.zx = s8(L->aux[A_ZP]);
    t.zy = rdi32(t.r + R_ZP);
    n = L->aux[A_OUTN];
    if (hook) hook(ctx, i, 0);
    switch (L->op) {
      case OP_CONV: run_conv(m, &t, 0); break;
      case OP_DW: run_conv(m, &t, 1); break;
      case OP_DENSE: run_dense(m, &t); break;
      case OP_RELU:
        for (e = 0; e < n; e++) t.y[e] = t.x[e] > t.zx ? t.x[e] : (int8_t)t.zx;
        break;
      case OP_RELU6: {
        int32_t six = rdi32(t.r + R_PARAM);
        for (e = 0; e < n; e++) t.y[e] = (int8_t)(t.x[e] > six ? six : t.x[e] > t.zx ? t.x[e] : t.zx);
        break;
      }
      case OP_MAXPOOL: run_pool(&t, 1); break;
      case OP_AVGPOOL: run_pool(&t, 0); break;
      case OP_GAP: run_gap(&t); break;
      case OP_ADD: run_add(m, L, &t); break;
      case OP_CONCAT: run_concat(m, L, &t); break;
      case OP_PAD: run_pad(&t); break;
      default: break; /* flatten, reshape, dropout, final softmax: aliases of their input */
    }
    if (hook) hook(ctx, i, 1);
  }
  memcpy(output, m->arena + m->layers[m->n_layers - 1].aux[A_OUT], m->output_size);
  return TRT_OK;
}
