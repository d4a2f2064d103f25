/*
 * Tandem int8 runtime: executes a compiled model blob (docs/blob-format.md) with exactly the integer
 * semantics of docs/int8-semantics.md (bit for bit with compiler/passes/quantize/int8-executor.ts).
 * C99, no dynamic allocation: the caller owns the model struct, the blob bytes and the arena.
 * This header is the contract between the runtime (runtime/) and the board firmware (protocol/, ports/).
 */
#ifndef TANDEM_RT_H
#define TANDEM_RT_H

#include <stdint.h>

typedef enum {
  TRT_OK = 0,
  TRT_ERR_MAGIC = 1,        /* not a Tandem blob */
  TRT_ERR_VERSION = 2,      /* blob format version not supported by this runtime */
  TRT_ERR_CRC = 3,          /* checksum mismatch */
  TRT_ERR_TRUNCATED = 4,    /* a section or tensor runs past the end of the blob */
  TRT_ERR_UNKNOWN_OP = 5,   /* op code this runtime does not execute */
  TRT_ERR_ARENA = 6,        /* activations do not fit the arena */
  TRT_ERR_SHAPE = 7,        /* inconsistent shapes or attributes */
  TRT_ERR_UNSUPPORTED = 8,  /* valid blob, but a feature this build leaves out (e.g. bits other than 8) */
  TRT_ERR_TOO_MANY_LAYERS = 9, /* more layers than TRT_MAX_LAYERS */
  TRT_ERR_ARG = 10          /* NULL pointer, or trt_run on a model that did not load */
} trt_status;

/* Most layers a model may have (fixed tables, no allocation). */
#define TRT_MAX_LAYERS 128

/* Called before (end = 0) and after (end = 1) every layer, for per-layer cycle counting. May be NULL. */
typedef void (*trt_layer_hook)(void *ctx, uint16_t layer, int end);

/* One layer as parsed from the blob (runtime-private fields follow). */
typedef struct {
  uint8_t op;             /* op code (docs/blob-format.md) */
  char name[32];          /* the graph node id, truncated and NUL-terminated */
  uint32_t macs;          /* multiply-accumulates per inference (0 for non-MAC ops) */
  uint32_t aux[16];       /* runtime-private: offsets, shapes, attributes */
} trt_layer;

typedef struct {
  const uint8_t *blob;
  uint32_t blob_len;
  uint8_t *arena;
  uint32_t arena_len;
  uint32_t arena_used;    /* bytes of the arena this model needs */
  uint16_t n_layers;
  uint32_t input_size;    /* int8 codes of one input */
  uint32_t output_size;   /* int8 codes of one output (the last node before any softmax) */
  trt_layer layers[TRT_MAX_LAYERS];
  /* trt_load's failure: the layer it refused (its op and name filled in layers[]), or 0xFFFF (header). */
  uint16_t error_layer;
} trt_model;

/* Parses and checks the blob (magic, version, CRC-32, every op and tensor bound); plans the arena. */
trt_status trt_load(trt_model *m, const uint8_t *blob, uint32_t blob_len, uint8_t *arena, uint32_t arena_len);

/* One inference: input codes (input_size) -> output codes (output_size). */
trt_status trt_run(trt_model *m, const int8_t *input, int8_t *output, trt_layer_hook hook, void *ctx);

/* A short English description of a status, for LOG/ERROR messages. */
const char *trt_status_text(trt_status s);

#endif
