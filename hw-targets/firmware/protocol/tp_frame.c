/* Protocol v1 framing: CRC-32 (table built once), COBS decoding byte by byte, COBS encoding to the UART. */
#include "tp_frame.h"

#include "tp_board.h"

static uint32_t crc_table[256];
static int crc_ready;

uint32_t tp_crc32(const uint8_t *p, uint32_t n, uint32_t prev) {
  if (!crc_ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
    }
    crc_ready = 1;
  }
  uint32_t c = ~prev;
  for (uint32_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return ~c;
}

void tp_rx_reset(tp_rx *r) {
  r->n = 0;
  r->code = 0;
  r->left = 0;
  r->started = 0;
  r->bad = 0;
}

static void rx_put(tp_rx *r, uint8_t b) {
  if (r->n < sizeof r->buf) r->buf[r->n++] = b;
  else r->bad = 1;
}

int tp_rx_byte(tp_rx *r, uint8_t b) {
  if (b == 0) {
    int res = 0;
    if (r->bad || r->left) res = -1;
    else if (r->started && r->n) res = r->n;
    tp_rx_reset(r);
    return res;
  }
  if (r->bad) return 0;
  if (r->left == 0) {
    /* A new block: the previous block (unless it was a full 0xFF block) ended with an implied zero. */
    if (r->started && r->code != 0xFF) rx_put(r, 0);
    r->code = b;
    r->left = (uint8_t)(b - 1);
    r->started = 1;
  } else {
    rx_put(r, b);
    r->left--;
  }
  return 0;
}

void tp_tx_body(const uint8_t *body, uint16_t n) {
  uint16_t i = 0;
  for (;;) {
    uint16_t run = 0;
    while (i + run < n && body[i + run] != 0 && run < 254) run++;
    board_uart_putc((uint8_t)(run + 1));
    for (uint16_t k = 0; k < run; k++) board_uart_putc(body[i + k]);
    i = (uint16_t)(i + run);
    if (i >= n) break;
    if (run == 254) continue; /* a full block has no implied zero */
    i++;                      /* the zero this block stands for */
    if (i >= n) {
      board_uart_putc(1);     /* a trailing zero: one empty block */
      break;
    }
  }
  board_uart_putc(0);
}
