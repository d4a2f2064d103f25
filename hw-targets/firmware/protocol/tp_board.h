/*
 * What the protocol handler needs from a board port (ports/<board>/): a byte-wise UART, a monotonic timer,
 * per-boot entropy and a reset. The protocol code itself is board-independent.
 */
#ifndef TP_BOARD_H
#define TP_BOARD_H

#include <stdint.h>

typedef struct {
  const char *board_id;     /* e.g. "qemu-mps2-an386" */
  uint32_t core_clock_hz;
  uint32_t timer_hz;        /* board_ticks() rate */
  uint8_t timer_source;     /* 1 SysTick, 2 DWT CYCCNT, 3 other (docs/protocol.md INFO) */
  uint8_t timer_bits;       /* hardware counter width */
  uint8_t timer_ext_bits;   /* width of board_ticks() after software extension */
} tp_board_desc;

extern const tp_board_desc board_desc;

/* Next received byte, or -1 when none is waiting. Never blocks. */
int board_uart_getc(void);
/* Blocks until the byte is queued for sending. */
void board_uart_putc(uint8_t c);
/* Blocks until every queued byte has left (before a reset). */
void board_uart_flush(void);
/* Monotonic timer ticks at board_desc.timer_hz. */
uint64_t board_ticks(void);
/*
 * Called once before a timed RUN: a port may restart its tick divider here so that ticks fall at a fixed
 * phase of the instruction stream (QEMU -icount: the same run then counts exactly the same ticks). Keeps
 * board_ticks() monotonic. May do nothing.
 */
void board_timer_sync(void);
/* Entropy fixed at boot (reset counter, uninitialised RAM); mixed with the first byte's arrival time. */
uint32_t board_nonce_seed(void);
/* Resets the board; does not return. */
void board_reset(void);

#endif
