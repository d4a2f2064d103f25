/*
 * Protocol v1 message handler (docs/protocol.md): HELLO/INFO, PING, TIMESTAMP, the chunked model upload
 * into the static slot, SET_INPUT, RUN (warm-up, timed iterations, per-layer statistics through the
 * runtime's layer hook), ABORT, RESET. One request is answered completely before the next is read.
 */
#include <string.h>

#include "tandem_rt.h"
#include "tp.h"
#include "tp_board.h"
#include "tp_frame.h"

enum {
  T_HELLO = 0x01, T_PING = 0x02, T_TIMESTAMP = 0x03, T_MODEL_BEGIN = 0x10, T_MODEL_CHUNK = 0x11,
  T_MODEL_COMMIT = 0x12, T_SET_INPUT = 0x13, T_RUN = 0x14, T_ABORT = 0x15, T_RESET = 0x16,
  T_INFO = 0x81, T_PONG = 0x82, T_TIME = 0x83, T_ACK = 0x84, T_NAK = 0x85, T_LAYER_TABLE = 0x86,
  T_RUN_SUMMARY = 0x87, T_LAYER_STATS = 0x88, T_OUTPUT = 0x89, T_DIGEST = 0x8A, T_LOG = 0x8B, T_ERROR = 0x8C,
  T_LAYER_SAMPLES = 0x8D
};
enum {
  E_BAD_VERSION = 1, E_UNKNOWN_TYPE = 2, E_BAD_LENGTH = 3, E_STATE = 4, E_TOO_LARGE = 5, E_CRC_MISMATCH = 6,
  E_INCOMPLETE = 7, E_BAD_FORMAT = 8, E_BAD_ARG = 9, E_ABORTED = 10, E_SLOT_WRITE = 11, E_RUNTIME = 0x20
};
enum { NAK_FRAME_CRC = 1, NAK_BAD_OFFSET = 2 };
enum { MODE_TOTAL = 0, MODE_PER_LAYER = 1, MODE_CALIBRATE = 2, MODE_LAYER_SAMPLES = 3 };
enum { OUT_NONE = 0, OUT_DIGEST = 1, OUT_FULL = 2 };
enum { CAP_PER_LAYER = 1, CAP_OUTPUT = 2, CAP_DIGEST = 4, CAP_CALIBRATE = 8, CAP_RESET = 16, CAP_LAYER_SAMPLES = 32 };
enum { SLOT_EMPTY, SLOT_UPLOADING, SLOT_LOADED };

#define FORMAT_TANDEM_BLOB 1u
#define STAT_BYTES 22u
#define TABLE_HEADER 18u
#define SAMPLES_HEADER 10u

static const tp_config *cfg;
static tp_rx rx;
static uint8_t tx[TP_MAX_BODY];
static uint16_t txn;
static uint32_t nonce; /* 0 until the first HELLO after boot */

static int slot_state = SLOT_EMPTY;
static uint32_t up_len, up_crc, up_received;
static uint32_t in_received;
static trt_model model;

/* Per-layer statistics of the timed iterations (PER_LAYER). */
static uint32_t st_calls[TRT_MAX_LAYERS], st_min[TRT_MAX_LAYERS], st_max[TRT_MAX_LAYERS];
static uint64_t st_sum[TRT_MAX_LAYERS];
static uint64_t layer_t0;
/* LAYER_SAMPLES: the row of the current timed iteration in cfg->layer_samples (layers + 1 columns), or 0. */
static uint32_t *sample_row;

/* --- little-endian helpers --- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

static void put8(uint8_t v) { if (txn < TP_MAX_PAYLOAD) tx[TP_HEADER + txn++] = v; }
static void put16(uint16_t v) { put8((uint8_t)v); put8((uint8_t)(v >> 8)); }
static void put32(uint32_t v) { put16((uint16_t)v); put16((uint16_t)(v >> 16)); }
static void put64(uint64_t v) { put32((uint32_t)v); put32((uint32_t)(v >> 32)); }
static void putbytes(const void *p, uint32_t n) { for (uint32_t i = 0; i < n; i++) put8(((const uint8_t *)p)[i]); }
static void putstr8(const char *s) {
  uint32_t n = (uint32_t)strlen(s);
  if (n > 255) n = 255;
  put8((uint8_t)n);
  putbytes(s, n);
}

static void send(uint8_t type, uint16_t seq, uint8_t flags) {
  tx[0] = TP_VERSION;
  tx[1] = type;
  tx[2] = flags;
  tx[3] = (uint8_t)seq;
  tx[4] = (uint8_t)(seq >> 8);
  tx[5] = (uint8_t)txn;
  tx[6] = (uint8_t)(txn >> 8);
  uint32_t c = tp_crc32(tx, TP_HEADER + txn, 0);
  uint8_t *q = tx + TP_HEADER + txn;
  q[0] = (uint8_t)c;
  q[1] = (uint8_t)(c >> 8);
  q[2] = (uint8_t)(c >> 16);
  q[3] = (uint8_t)(c >> 24);
  tp_tx_body(tx, (uint16_t)(TP_HEADER + txn + TP_CRC));
  txn = 0;
}

static void send_ack(uint16_t seq, uint8_t ref, uint32_t value) {
  put8(ref);
  put32(value);
  send(T_ACK, seq, TP_FLAG_FINAL);
}

static void send_nak(uint16_t seq, uint8_t ref, uint8_t reason, uint32_t expected) {
  put8(ref);
  put8(reason);
  put32(expected);
  send(T_NAK, seq, TP_FLAG_FINAL);
}

static void send_error(uint16_t seq, uint8_t ref, uint8_t code, uint32_t detail, const char *text) {
  txn = 0;
  put8(code);
  put8(ref);
  put32(detail);
  uint32_t n = (uint32_t)strlen(text);
  putbytes(text, n > 64 ? 64 : n);
  send(T_ERROR, seq, TP_FLAG_FINAL);
}

/* --- messages --- */

static void on_hello(uint16_t seq) {
  put8(TP_VERSION);
  put8(board_desc.timer_source);
  put8(board_desc.timer_bits);
  put8(board_desc.timer_ext_bits);
  put32(nonce);
  put32(board_desc.core_clock_hz);
  put32(board_desc.timer_hz);
  put16(TP_MAX_PAYLOAD);
  put16(cfg->max_iterations);
  put32(cfg->slot_len);
  put32(cfg->arena_len);
  put32(CAP_PER_LAYER | CAP_OUTPUT | CAP_DIGEST | CAP_CALIBRATE | CAP_RESET | (cfg->layer_sample_slots ? CAP_LAYER_SAMPLES : 0));
  putstr8(cfg->runtime_id);
  putstr8(board_desc.board_id);
  put32(cfg->layer_sample_slots);
  send(T_INFO, seq, TP_FLAG_FINAL);
}

static void send_layer_table(uint16_t seq) {
  uint16_t i = 0;
  do {
    put16(model.n_layers);
    put16(i);
    uint16_t count_at = txn;
    put16(0);
    put32(model.input_size);
    put32(model.output_size);
    put32(model.arena_used);
    uint16_t count = 0;
    while (i < model.n_layers) {
      const trt_layer *l = &model.layers[i];
      uint32_t name_len = 0;
      while (name_len < sizeof l->name && l->name[name_len]) name_len++;
      if (txn + 8u + name_len > TP_MAX_PAYLOAD) break;
      put16(i);
      put8(l->op);
      put32(l->macs);
      put8((uint8_t)name_len);
      putbytes(l->name, name_len);
      i++;
      count++;
    }
    tx[TP_HEADER + count_at] = (uint8_t)count;
    tx[TP_HEADER + count_at + 1] = (uint8_t)(count >> 8);
    send(T_LAYER_TABLE, seq, i >= model.n_layers ? TP_FLAG_FINAL : 0);
  } while (i < model.n_layers);
}

static void on_model_begin(uint16_t seq, const uint8_t *p, uint16_t len) {
  if (len != 10) return send_error(seq, T_MODEL_BEGIN, E_BAD_LENGTH, 10, "MODEL_BEGIN payload is 10 bytes");
  uint32_t length = rd32(p), crc = rd32(p + 4);
  uint16_t format = rd16(p + 8);
  slot_state = SLOT_EMPTY;
  if (format != FORMAT_TANDEM_BLOB) return send_error(seq, T_MODEL_BEGIN, E_BAD_FORMAT, format, "unknown model format");
  if (length == 0) return send_error(seq, T_MODEL_BEGIN, E_BAD_LENGTH, 0, "empty model");
  if (length > cfg->slot_len) return send_error(seq, T_MODEL_BEGIN, E_TOO_LARGE, cfg->slot_len, "model larger than the model slot");
  if (cfg->slot_erase) {
    uint32_t st = cfg->slot_erase(length);
    if (st) return send_error(seq, T_MODEL_BEGIN, E_SLOT_WRITE, st, "model slot erase failed");
  }
  up_len = length;
  up_crc = crc;
  up_received = 0;
  slot_state = SLOT_UPLOADING;
  send_ack(seq, T_MODEL_BEGIN, 0);
}

/* Chunk rules shared by MODEL_CHUNK and SET_INPUT: in order or resent, never past the end. */
static void take_chunk(uint16_t seq, uint8_t ref, uint8_t *dst, uint32_t total, uint32_t *received, uint32_t offset,
                       const uint8_t *data, uint32_t n) {
  if (offset > *received || offset > total || n > total - offset) return send_nak(seq, ref, NAK_BAD_OFFSET, *received);
  memcpy(dst + offset, data, n);
  if (offset + n > *received) *received = offset + n;
  send_ack(seq, ref, *received);
}

static void on_model_chunk(uint16_t seq, const uint8_t *p, uint16_t len) {
  if (len < 4) return send_error(seq, T_MODEL_CHUNK, E_BAD_LENGTH, 4, "MODEL_CHUNK needs an offset");
  if (slot_state != SLOT_UPLOADING) return send_error(seq, T_MODEL_CHUNK, E_STATE, 0, "no upload in progress (MODEL_BEGIN first)");
  uint32_t offset = rd32(p), n = (uint32_t)len - 4;
  if (!cfg->slot_write) return take_chunk(seq, T_MODEL_CHUNK, cfg->slot, up_len, &up_received, offset, p + 4, n);
  /* Flash: bytes below `received` are programmed already (a resend carries the same bytes); program the rest. */
  if (offset > up_received || offset > up_len || n > up_len - offset) return send_nak(seq, T_MODEL_CHUNK, NAK_BAD_OFFSET, up_received);
  if (offset + n > up_received) {
    uint32_t skip = up_received - offset;
    uint32_t st = cfg->slot_write(up_received, p + 4 + skip, n - skip);
    if (st) {
      slot_state = SLOT_EMPTY;
      return send_error(seq, T_MODEL_CHUNK, E_SLOT_WRITE, st, "model slot write failed");
    }
    up_received = offset + n;
  }
  send_ack(seq, T_MODEL_CHUNK, up_received);
}

/* "<status text>: op <op> at layer <i> <name>" for a load refused at a layer (ERROR text, at most 64 bytes). */
static const char *load_error_text(trt_status s) {
  static char t[65];
  const char *base = trt_status_text(s);
  if (model.error_layer >= TRT_MAX_LAYERS) return base;
  const trt_layer *l = &model.layers[model.error_layer];
  uint32_t n = 0;
  char num[6];
  const char *parts[6] = {base, ": op ", 0, " at layer ", 0, " "};
  for (int k = 0; k < 7; k++) {
    const char *q;
    if (k == 2 || k == 4) {
      uint32_t v = k == 2 ? l->op : model.error_layer, d = 5;
      num[d] = 0;
      do num[--d] = (char)('0' + v % 10), v /= 10; while (v);
      q = num + d;
    } else q = k < 6 ? parts[k] : l->name;
    while (*q && n < 64) t[n++] = *q++;
  }
  t[n] = 0;
  return t;
}

static void on_model_commit(uint16_t seq, uint16_t len) {
  if (len != 0) return send_error(seq, T_MODEL_COMMIT, E_BAD_LENGTH, 0, "MODEL_COMMIT has no payload");
  if (slot_state == SLOT_LOADED) return send_layer_table(seq);
  if (slot_state != SLOT_UPLOADING) return send_error(seq, T_MODEL_COMMIT, E_STATE, 0, "no upload in progress");
  if (up_received < up_len) return send_error(seq, T_MODEL_COMMIT, E_INCOMPLETE, up_received, "model incomplete");
  uint32_t crc = tp_crc32(cfg->slot, up_len, 0);
  if (crc != up_crc) {
    slot_state = SLOT_EMPTY;
    return send_error(seq, T_MODEL_COMMIT, E_CRC_MISMATCH, crc, "model CRC-32 mismatch");
  }
  trt_status s = trt_load(&model, cfg->slot, up_len, cfg->arena, cfg->arena_len);
  if (s != TRT_OK) {
    slot_state = SLOT_EMPTY;
    return send_error(seq, T_MODEL_COMMIT, (uint8_t)(E_RUNTIME + s), 1, load_error_text(s));
  }
  if (model.input_size > cfg->input_len || model.output_size > cfg->output_len) {
    slot_state = SLOT_EMPTY;
    return send_error(seq, T_MODEL_COMMIT, E_BAD_LENGTH, model.input_size > cfg->input_len ? cfg->input_len : cfg->output_len,
                      "model input/output larger than the board's buffers");
  }
  memset(cfg->input, 0, model.input_size);
  in_received = 0;
  slot_state = SLOT_LOADED;
  send_layer_table(seq);
}

static void on_set_input(uint16_t seq, const uint8_t *p, uint16_t len) {
  if (len < 8) return send_error(seq, T_SET_INPUT, E_BAD_LENGTH, 8, "SET_INPUT needs offset and total");
  if (slot_state != SLOT_LOADED) return send_error(seq, T_SET_INPUT, E_STATE, 0, "no model loaded");
  uint32_t offset = rd32(p), total = rd32(p + 4);
  if (total != model.input_size) return send_error(seq, T_SET_INPUT, E_BAD_LENGTH, model.input_size, "input size differs from the model's");
  if (offset == 0) in_received = 0; /* offset 0 starts a new input */
  take_chunk(seq, T_SET_INPUT, (uint8_t *)cfg->input, total, &in_received, offset, p + 8, (uint32_t)len - 8);
}

static void layer_hook(void *ctx, uint16_t layer, int end) {
  (void)ctx;
  uint64_t now = board_ticks();
  if (!end) {
    layer_t0 = now;
    return;
  }
  if (layer >= TRT_MAX_LAYERS) return;
  uint64_t d64 = now - layer_t0;
  uint32_t d = d64 > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)d64;
  if (st_calls[layer] == 0 || d < st_min[layer]) st_min[layer] = d;
  if (d > st_max[layer]) st_max[layer] = d;
  st_sum[layer] += d;
  st_calls[layer]++;
  if (sample_row) sample_row[layer] = d;
}

/* A fixed busy loop for CALIBRATE (timer against host clock, determinism under QEMU -icount). */
static void busy_loop(uint32_t loops) {
  for (volatile uint32_t i = 0; i < loops; i++) {
  }
}

static void sort_u32(uint32_t *a, uint32_t n) {
  for (uint32_t gap = n / 2; gap > 0; gap /= 2)
    for (uint32_t i = gap; i < n; i++) {
      uint32_t v = a[i], j = i;
      for (; j >= gap && a[j - gap] > v; j -= gap) a[j] = a[j - gap];
      a[j] = v;
    }
}

/* Returns a byte that arrived during the run (it aborted the run), or -1. */
static int on_run(uint16_t seq, const uint8_t *p, uint16_t len) {
  if (len != 10) return send_error(seq, T_RUN, E_BAD_LENGTH, 10, "RUN payload is 10 bytes"), -1;
  uint16_t warmup = rd16(p), iters = rd16(p + 2);
  uint8_t mode = p[4], out = p[5];
  uint32_t loops = rd32(p + 6);
  if (mode > MODE_LAYER_SAMPLES || out > OUT_FULL) return send_error(seq, T_RUN, E_BAD_ARG, 0, "unknown run mode or output"), -1;
  if (iters == 0 || iters > cfg->max_iterations) return send_error(seq, T_RUN, E_BAD_ARG, cfg->max_iterations, "iterations out of range"), -1;
  if (mode != MODE_CALIBRATE && slot_state != SLOT_LOADED) return send_error(seq, T_RUN, E_STATE, 0, "no model loaded"), -1;
  if (mode == MODE_CALIBRATE) out = OUT_NONE;
  int per_layer = mode == MODE_PER_LAYER || mode == MODE_LAYER_SAMPLES;
  uint16_t layers = per_layer ? model.n_layers : 0;
  uint32_t cols = (uint32_t)layers + 1u; /* LAYER_SAMPLES row: each layer's ticks, then the inference's */
  uint32_t n_samples = mode == MODE_LAYER_SAMPLES ? cols * iters : 0;
  if (n_samples > cfg->layer_sample_slots)
    return send_error(seq, T_RUN, E_BAD_ARG, cfg->layer_sample_slots, "iterations x (layers + 1) exceeds the sample slots"), -1;
  for (uint16_t l = 0; l < layers; l++) st_calls[l] = st_min[l] = st_max[l] = 0, st_sum[l] = 0;
  board_timer_sync();

  /* Nothing is sent while this loop runs; between inferences only the UART status is read. */
  int abort_byte = -1;
  uint64_t total = 0;
  for (uint32_t i = 0; i < (uint32_t)warmup + iters; i++) {
    abort_byte = board_uart_getc();
    if (abort_byte >= 0) break;
    int timed = i >= warmup;
    trt_layer_hook hook = timed && per_layer ? layer_hook : 0;
    sample_row = timed && n_samples ? cfg->layer_samples + (i - warmup) * cols : 0;
    uint64_t t0 = board_ticks();
    trt_status s = TRT_OK;
    if (mode == MODE_CALIBRATE) busy_loop(loops);
    else s = trt_run(&model, cfg->input, cfg->output, hook, 0);
    uint64_t d = board_ticks() - t0;
    if (s != TRT_OK) return send_error(seq, T_RUN, (uint8_t)(E_RUNTIME + s), 2, trt_status_text(s)), -1;
    if (timed) {
      cfg->samples[i - warmup] = d > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)d;
      if (sample_row) sample_row[layers] = cfg->samples[i - warmup];
      total += d;
    }
  }
  sample_row = 0;
  if (abort_byte >= 0) {
    send_error(seq, T_RUN, E_ABORTED, 0, "run aborted");
    return abort_byte;
  }

  uint32_t *s = cfg->samples;
  sort_u32(s, iters);
  uint32_t per_frame = (TP_MAX_PAYLOAD - 2) / STAT_BYTES;
  uint32_t stat_frames = (layers + per_frame - 1) / per_frame;
  uint32_t out_size = out == OUT_NONE ? 0 : model.output_size;
  uint32_t out_chunk = TP_MAX_PAYLOAD - 8;
  uint32_t out_frames = out == OUT_FULL ? (out_size + out_chunk - 1) / out_chunk : out == OUT_DIGEST ? 1 : 0;
  if (out == OUT_FULL && out_frames == 0) out_frames = 1;
  uint32_t per_samples = (TP_MAX_PAYLOAD - SAMPLES_HEADER) / 4u;
  uint32_t sample_frames = (n_samples + per_samples - 1) / per_samples;
  uint32_t frames = 1 + stat_frames + sample_frames + out_frames, sent = 0;

  put16(iters);
  put8(mode);
  put8(out);
  put32(s[0]);
  put32(s[(iters - 1) / 2]);
  put32(s[(9u * iters + 9u) / 10u - 1u]);
  put32(s[iters - 1]);
  put64(total);
  send(T_RUN_SUMMARY, seq, ++sent == frames ? TP_FLAG_FINAL : 0);

  for (uint16_t l = 0; l < layers;) {
    uint32_t left = (uint32_t)layers - l;
    uint16_t n = (uint16_t)(left < per_frame ? left : per_frame);
    put16(n);
    for (uint16_t k = 0; k < n; k++, l++) {
      put16(l);
      put32(st_calls[l]);
      put32(st_min[l]);
      put32(st_max[l]);
      put64(st_sum[l]);
    }
    send(T_LAYER_STATS, seq, ++sent == frames ? TP_FLAG_FINAL : 0);
  }
  for (uint32_t k = 0; k < n_samples;) {
    uint32_t n = n_samples - k < per_samples ? n_samples - k : per_samples;
    put16(layers);
    put16(iters);
    put32(k);
    put16((uint16_t)n);
    for (uint32_t j = 0; j < n; j++) put32(cfg->layer_samples[k + j]);
    k += n;
    send(T_LAYER_SAMPLES, seq, ++sent == frames ? TP_FLAG_FINAL : 0);
  }
  if (out == OUT_DIGEST) {
    put32(out_size);
    put32(tp_crc32((const uint8_t *)cfg->output, out_size, 0));
    send(T_DIGEST, seq, ++sent == frames ? TP_FLAG_FINAL : 0);
  } else if (out == OUT_FULL) {
    uint32_t off = 0;
    do {
      uint32_t n = out_size - off < out_chunk ? out_size - off : out_chunk;
      put32(out_size);
      put32(off);
      putbytes(cfg->output + off, n);
      off += n;
      send(T_OUTPUT, seq, ++sent == frames ? TP_FLAG_FINAL : 0);
    } while (off < out_size);
  }
  return -1;
}

/* One complete, CRC-checked-or-not body from the decoder. Returns a byte to feed back (see on_run) or -1. */
static int on_body(const uint8_t *b, uint16_t n) {
  if (n < TP_HEADER + TP_CRC) return -1;
  uint16_t len = rd16(b + 5);
  if ((uint32_t)len + TP_HEADER + TP_CRC != n) return -1; /* header unreliable: drop silently */
  uint8_t type = b[1];
  uint16_t seq = rd16(b + 3);
  if (tp_crc32(b, (uint32_t)TP_HEADER + len, 0) != rd32(b + TP_HEADER + len)) return send_nak(seq, type, NAK_FRAME_CRC, 0), -1;
  if (b[0] != TP_VERSION) return send_error(seq, type, E_BAD_VERSION, TP_VERSION, "protocol version not supported"), -1;
  const uint8_t *p = b + TP_HEADER;
  switch (type) {
    case T_HELLO:
      if (len != 0 && len != 4) return send_error(seq, type, E_BAD_LENGTH, 4, "HELLO payload is a u32 token"), -1;
      if (!nonce) {
        /*
         * Fixed at the first HELLO of a boot. Under QEMU -icount a fresh launch is deterministic (RAM zeroed,
         * input often already waiting at boot), so the host's random token is what makes launches differ; the
         * board's seed (reset counter, uninitialised RAM) and timer add what real hardware offers.
         */
        uint64_t t = board_ticks();
        uint32_t mix[4] = {board_nonce_seed(), (uint32_t)t, (uint32_t)(t >> 32), len == 4 ? rd32(p) : 0};
        nonce = tp_crc32((const uint8_t *)mix, sizeof mix, 0);
        if (nonce == 0) nonce = 1;
      }
      on_hello(seq);
      break;
    case T_PING:
      if (len != 4) return send_error(seq, type, E_BAD_LENGTH, 4, "PING payload is 4 bytes"), -1;
      put32(rd32(p));
      put32(nonce);
      send(T_PONG, seq, TP_FLAG_FINAL);
      break;
    case T_TIMESTAMP:
      put64(board_ticks());
      send(T_TIME, seq, TP_FLAG_FINAL);
      break;
    case T_MODEL_BEGIN: on_model_begin(seq, p, len); break;
    case T_MODEL_CHUNK: on_model_chunk(seq, p, len); break;
    case T_MODEL_COMMIT: on_model_commit(seq, len); break;
    case T_SET_INPUT: on_set_input(seq, p, len); break;
    case T_RUN: return on_run(seq, p, len);
    case T_ABORT:
      if (slot_state == SLOT_UPLOADING) slot_state = SLOT_EMPTY;
      send_ack(seq, type, 0);
      break;
    case T_RESET:
      send_ack(seq, type, 0);
      board_uart_flush();
      board_reset();
      break;
    default: send_error(seq, type, E_UNKNOWN_TYPE, type, "unknown message type"); break;
  }
  return -1;
}

static void feed(uint8_t c) {
  for (int c2 = c; c2 >= 0;) {
    int r = tp_rx_byte(&rx, (uint8_t)c2);
    c2 = r > 0 ? on_body(rx.buf, (uint16_t)r) : -1; /* the decoder has reset; rx.buf still holds the body */
  }
}

void tp_init(const tp_config *c) {
  cfg = c;
  tp_rx_reset(&rx);
  slot_state = SLOT_EMPTY;
}

void tp_poll(void) {
  int c;
  while ((c = board_uart_getc()) >= 0) feed((uint8_t)c);
}
