/*
 * QEMU mps2-an386 board port: CMSDK APB UART0, SysTick extended to 64 bits, boot nonce seed, reset.
 *
 * Timer: SysTick counts down from 2^24 - 1 at the 25 MHz core clock (CLKSOURCE = processor clock) and
 * interrupts on every wrap; the handler counts wraps, so board_ticks() = wraps * 2^24 + elapsed. A read that
 * races with a wrap whose interrupt is still pending is corrected with ICSR.PENDSTSET. Under QEMU the
 * SysTick runs on virtual time: with -icount shift=0 one instruction is 1 ns, i.e. 1/40 tick.
 */
#include <stdint.h>

#include "tp_board.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x00u)
#define UART_STATE REG(UART0 + 0x04u) /* bit 0 TX full, bit 1 RX full */
#define UART_CTRL REG(UART0 + 0x08u)  /* bit 0 TX enable, bit 1 RX enable */
#define UART_INTCLEAR REG(UART0 + 0x0Cu)
#define UART_BAUDDIV REG(UART0 + 0x10u)
#define NVIC_ISER0 REG(0xE000E100u)
#define UART0_RX_IRQ 0u /* mps2-an386: UART0 RX is IRQ 0, TX IRQ 1 */

#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)
#define SCB_AIRCR REG(0xE000ED0Cu)

#define CORE_HZ 25000000u
#define RELOAD 0xFFFFFFu

const tp_board_desc board_desc = {"qemu-mps2-an386", CORE_HZ, CORE_HZ, 1, 24, 64};

static volatile uint32_t wraps;
static uint64_t base; /* ticks counted before the last board_timer_sync */

/*
 * Received bytes: the RX interrupt moves them to this ring, and the main loop sleeps (WFI) while it is
 * empty. Busy-polling the UART register instead keeps QEMU's vCPU thread on the I/O lock and starves the
 * thread that delivers pty input (about 6 KB/s measured); sleeping lets input flow.
 */
#define RING 2048u
static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail;

void UART0RX_Handler(void) {
  UART_INTCLEAR = 2u;
  while (UART_STATE & 2u) {
    uint32_t h = ring_head;
    uint8_t c = (uint8_t)UART_DATA;
    if (h - ring_tail < RING) {
      ring[h % RING] = c;
      ring_head = h + 1;
    }
  }
}

/* Survive a reset (not cleared by startup, not loaded from the ELF): see board_nonce_seed. */
__attribute__((section(".noinit"))) static uint32_t boot_magic, boot_count, boot_garbage;

void SysTick_Handler(void) { wraps++; }

void board_init(void) {
  UART_BAUDDIV = CORE_HZ / 115200u;
  UART_CTRL = 3u | 8u; /* TX, RX, RX interrupt */
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
  SYST_RVR = RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* processor clock, interrupt, enable */
  if (boot_magic != 0x7A4E0B01u) {
    boot_magic = 0x7A4E0B01u;
    boot_count = 0;
  }
  boot_count++;
}

int board_uart_getc(void) {
  uint32_t t = ring_tail;
  if (t == ring_head) return -1;
  int c = ring[t % RING];
  ring_tail = t + 1;
  return c;
}

void board_idle(void) {
  /* With interrupts masked, WFI still wakes on a pending interrupt: no lost wake-up between test and sleep. */
  __asm volatile("cpsid i" ::: "memory");
  if (ring_tail == ring_head) __asm volatile("wfi");
  __asm volatile("cpsie i" ::: "memory");
}

void board_uart_putc(uint8_t c) {
  while (UART_STATE & 1u) {
  }
  UART_DATA = c;
}

void board_uart_flush(void) {
  while (UART_STATE & 1u) {
  }
}

uint64_t board_ticks(void) {
  uint32_t hi, v, pend;
  do {
    hi = wraps;
    v = SYST_CVR;
    pend = SCB_ICSR & (1u << 26);
  } while (hi != wraps);
  if (pend && v > RELOAD / 2) hi++; /* wrapped, interrupt not yet taken */
  return base + ((uint64_t)hi << 24) + (RELOAD - v);
}

/*
 * Restarts SysTick from RELOAD at this instruction. QEMU runs the counter on virtual time, and its phase against
 * the instruction stream is otherwise whatever it was when the RUN frame arrived (real time while the CPU slept):
 * a layer's count then varies by one tick between identical runs. After the restart, ticks (and the wrap
 * interrupt) fall at fixed instructions of the run, so under -icount identical runs count identical ticks. The
 * extension keeps board_ticks() monotonic: the ticks so far go to `base`, plus one for the restart.
 */
void board_timer_sync(void) {
  __asm volatile("cpsid i" ::: "memory");
  uint64_t now = board_ticks();
  SYST_CSR = 0;
  SYST_CVR = 0; /* any write clears the counter */
  SYST_CSR = 7u; /* restart: the counter loads RELOAD at the next clock and counts down from it */
  while (SYST_CVR == 0) {
  }
  SCB_ICSR = 1u << 25; /* PENDSTCLR: the reload from 0 is not a wrap of the extension */
  wraps = 0;
  base = now + 1;
  __asm volatile("cpsie i" ::: "memory");
}

/*
 * boot_count changes on every reset without power loss (RESET, watchdog); boot_garbage is whatever SRAM held
 * at power-up on real boards. QEMU starts both at 0 on every fresh launch, so the protocol handler also
 * mixes in the timer value when the host's first byte arrives (real time, varies between launches).
 */
uint32_t board_nonce_seed(void) { return boot_count * 0x9E3779B1u ^ boot_garbage; }

void board_reset(void) {
  __asm volatile("dsb");
  SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
  __asm volatile("dsb");
  for (;;) {
  }
}
