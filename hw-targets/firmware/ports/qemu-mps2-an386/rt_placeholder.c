/*
 * PLACEHOLDER for the Tandem int8 runtime (runtime/tandem_rt.c), linked until the real runtime exists so
 * that the protocol and the board port can be tested. It executes nothing: trt_run returns
 * TRT_ERR_UNSUPPORTED. trt_load accepts only a test blob "TPLH" | layers u8 | input_size u32 |
 * output_size u32 (little-endian) and makes up that many named layers; anything else is TRT_ERR_MAGIC.
 */
#include <string.h>

#include "tandem_rt.h"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }

trt_status trt_load(trt_model *m, const uint8_t *blob, uint32_t blob_len, uint8_t *arena, uint32_t arena_len) {
  if (blob_len < 13 || memcmp(blob, "TPLH", 4) != 0) return TRT_ERR_MAGIC;
  if (blob[4] > TRT_MAX_LAYERS) return TRT_ERR_SHAPE;
  memset(m, 0, sizeof *m);
  m->blob = blob;
  m->blob_len = blob_len;
  m->arena = arena;
  m->arena_len = arena_len;
  m->n_layers = blob[4];
  m->input_size = rd32(blob + 5);
  m->output_size = rd32(blob + 9);
  for (uint16_t i = 0; i < m->n_layers; i++) {
    static const char name[] = "placeholder-layer-";
    memcpy(m->layers[i].name, name, sizeof name - 1);
    m->layers[i].name[sizeof name - 1] = (char)('0' + i / 100 % 10);
    m->layers[i].name[sizeof name] = (char)('0' + i / 10 % 10);
    m->layers[i].name[sizeof name + 1] = (char)('0' + i % 10);
    m->layers[i].op = (uint8_t)(i % 7);
    m->layers[i].macs = 1000u * i;
  }
  return TRT_OK;
}

trt_status trt_run(trt_model *m, const int8_t *input, int8_t *output, trt_layer_hook hook, void *ctx) {
  (void)m, (void)input, (void)output, (void)hook, (void)ctx;
  return TRT_ERR_UNSUPPORTED;
}

const char *trt_status_text(trt_status s) {
  static const char *const text[] = {"ok", "not a Tandem blob", "blob version not supported", "checksum mismatch",
                                     "blob truncated", "unknown op", "arena too small", "inconsistent shapes",
                                     "not supported by this runtime (placeholder: runs nothing)"};
  return (unsigned)s < sizeof text / sizeof text[0] ? text[s] : "unknown status";
}
