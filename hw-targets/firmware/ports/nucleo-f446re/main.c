/*
 * NUCLEO-F446RE firmware: static buffers sized for 128 KB SRAM, the model slot in flash (480 KB, sectors 2-7:
 * see stm32f446re.ld), then serve the host forever.
 *
 * SRAM budget (bytes): arena 65,536 (fmnist-vgg needs 53,008), input and output 4,096 each, 1,000 run samples
 * 4,000, 4,096 layer samples 16,384 (e.g. 170 iterations of vgg's 22 layers + 1); the protocol handler's
 * state ~17 KB (trt_model ~13 KB with 128 layers, per-layer stats, frame buffers), the UART ring 2 KB, and
 * an 8 KB stack (trt_load uses ~5 KB). The linker checks the total.
 */
#include <stdint.h>

#include "tp.h"

#ifndef TP_RUNTIME_ID
#define TP_RUNTIME_ID "unknown"
#endif

#define ARENA_BYTES (64u * 1024u)
#define IO_BYTES (4u * 1024u)
#define MAX_ITERATIONS 1000u
#define LAYER_SAMPLE_SLOTS 4096u

void board_init(void);
void board_idle(void);
uint32_t board_slot_erase(uint32_t len);
uint32_t board_slot_write(uint32_t offset, const uint8_t *data, uint32_t n);
extern uint8_t __slot_start[], __slot_end[];

static uint8_t arena[ARENA_BYTES] __attribute__((aligned(16)));
static int8_t input[IO_BYTES] __attribute__((aligned(16)));
static int8_t output[IO_BYTES] __attribute__((aligned(16)));
static uint32_t samples[MAX_ITERATIONS];
static uint32_t layer_samples[LAYER_SAMPLE_SLOTS];

int main(void) {
  board_init();
  /* The slot's size comes from the linker script (INFO.slotBytes reports it); main never returns, so the handler may keep a pointer to this. */
  const tp_config config = {
    __slot_start, (uint32_t)(__slot_end - __slot_start), arena, ARENA_BYTES, input, IO_BYTES, output, IO_BYTES, samples,
    MAX_ITERATIONS, layer_samples, LAYER_SAMPLE_SLOTS, TP_RUNTIME_ID, board_slot_erase, board_slot_write,
  };
  tp_init(&config);
  for (;;) {
    tp_poll();
    board_idle();
  }
}
