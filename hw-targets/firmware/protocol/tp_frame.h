/* Protocol v1 framing (docs/protocol.md): CRC-32/ISO-HDLC, COBS, header | payload | CRC. */
#ifndef TP_FRAME_H
#define TP_FRAME_H

#include <stdint.h>

#ifndef TP_VERSION /* overridable only so a test can build a board of another version (test/board-bad-input) */
#define TP_VERSION 1u
#endif
#define TP_HEADER 7u
#define TP_CRC 4u
#define TP_MAX_PAYLOAD 1024u
#define TP_MAX_BODY (TP_HEADER + TP_MAX_PAYLOAD + TP_CRC)
#define TP_FLAG_FINAL 0x01u

/* CRC-32/ISO-HDLC continued from prev (0 to start): tp_crc32(b, m, tp_crc32(a, n, 0)) = CRC of a ++ b. */
uint32_t tp_crc32(const uint8_t *p, uint32_t n, uint32_t prev);

/* COBS decoder fed byte by byte; the decoded body accumulates in buf. */
typedef struct {
  uint8_t buf[TP_MAX_BODY];
  uint16_t n;
  uint8_t code;       /* current block's code byte */
  uint8_t left;       /* data bytes still to come in the current block */
  uint8_t started;
  uint8_t bad;        /* overlong or invalid: dropped at the next 0x00 */
} tp_rx;

void tp_rx_reset(tp_rx *r);
/* Returns the body length when b (0x00) completes a frame, -1 when it ends a dropped one, else 0. */
int tp_rx_byte(tp_rx *r, uint8_t b);

/* Sends body (n bytes) COBS-encoded and followed by 0x00, through board_uart_putc. */
void tp_tx_body(const uint8_t *body, uint16_t n);

#endif
