/*
 * Tandem board protocol v1 handler (docs/protocol.md): board-independent, C99, no dynamic allocation.
 * The port owns every buffer and passes them in tp_config; main() calls tp_init once, then tp_poll forever.
 */
#ifndef TP_H
#define TP_H

#include <stdint.h>

typedef struct {
  uint8_t *slot;            /* the model slot (MODEL_CHUNK bytes land here; trt_load reads them in place) */
  uint32_t slot_len;
  uint8_t *arena;           /* the runtime's activation arena */
  uint32_t arena_len;
  int8_t *input;            /* SET_INPUT codes */
  uint32_t input_len;
  int8_t *output;
  uint32_t output_len;
  uint32_t *samples;        /* one per timed iteration */
  uint16_t max_iterations;
  uint32_t *layer_samples;  /* RUN mode LAYER_SAMPLES: iterations x (layers + 1) ticks */
  uint32_t layer_sample_slots;
  const char *runtime_id;   /* INFO.runtimeId, e.g. "tandem-rt/1" */
  /*
   * A slot in flash (NULL for a RAM slot, written with memcpy): slot_erase(len) at MODEL_BEGIN erases what
   * a model of len bytes covers; slot_write(offset, data, n) programs bytes never written since that erase
   * (the handler passes only the part of a chunk past `received`). Both return 0, or a port status that
   * becomes ERROR(SLOT_WRITE, detail = status).
   */
  uint32_t (*slot_erase)(uint32_t len);
  uint32_t (*slot_write)(uint32_t offset, const uint8_t *data, uint32_t n);
} tp_config;

void tp_init(const tp_config *cfg);
/* Reads every byte waiting on the UART and answers each complete frame. */
void tp_poll(void);

#endif
