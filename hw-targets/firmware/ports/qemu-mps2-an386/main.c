/* QEMU mps2-an386 firmware: static buffers for the protocol handler, then serve the host forever. */
#include <stdint.h>

#include "tp.h"

#ifndef TP_RUNTIME_ID
#define TP_RUNTIME_ID "unknown"
#endif

#define SLOT_BYTES (1024u * 1024u)
#define ARENA_BYTES (1024u * 1024u)
#define IO_BYTES (64u * 1024u)
#define MAX_ITERATIONS 1000u
#define LAYER_SAMPLE_SLOTS (64u * 1024u) /* e.g. 1000 iterations of a 64-layer model */

void board_init(void);
void board_idle(void);

static uint8_t slot[SLOT_BYTES] __attribute__((aligned(16)));
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(16)));
static int8_t input[IO_BYTES] __attribute__((aligned(16)));
static int8_t output[IO_BYTES] __attribute__((aligned(16)));
static uint32_t samples[MAX_ITERATIONS];
static uint32_t layer_samples[LAYER_SAMPLE_SLOTS];

static const tp_config config = {
  slot, SLOT_BYTES, arena, ARENA_BYTES, input, IO_BYTES, output, IO_BYTES, samples, MAX_ITERATIONS,
  layer_samples, LAYER_SAMPLE_SLOTS, TP_RUNTIME_ID, 0, 0, /* RAM slot */
};

int main(void) {
  board_init();
  tp_init(&config);
  for (;;) {
    tp_poll();
    board_idle();
  }
}
