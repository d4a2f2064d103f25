/*
 * ST NUCLEO-F446RE board port (STM32F446RE): 180 MHz from HSI, USART2 (ST-LINK virtual COM port), DWT cycle
 * counter extended to 64 bits, model slot in flash, boot nonce seed, reset. Registers are written by hand
 * (RM0390 addresses) for the few peripherals used: no ST HAL or CMSIS.
 *
 * Clock: HSI 16 MHz / PLLM 8 = 2 MHz (the PLL input RM0390 recommends) x PLLN 180 = VCO 360 MHz / PLLP 2 =
 * SYSCLK 180 MHz. 180 MHz needs voltage scale 1 and the regulator's over-drive mode (above 168 MHz) and
 * 5 flash wait states (150 < HCLK <= 180 MHz at 2.7-3.6 V; the Nucleo runs at 3.3 V). APB1 = 45 MHz (max
 * 45), APB2 = 90 MHz (max 90). HSI is +-1 % over temperature: fine for the UART, not a precision clock.
 *
 * Timer: DWT->CYCCNT counts core cycles, 32 bits: it wraps every 2^32 / 180 MHz = 23.86 s. board_ticks()
 * extends it to 64 bits by counting wraps (a read lower than the previous one is a wrap), with interrupts
 * masked; SysTick interrupts every 2^24 cycles (93 ms) only to call it, so no wrap goes unseen while the
 * main loop is busy elsewhere. That interrupt costs a few dozen cycles inside a measured interval when it
 * falls there (one per 93 ms).
 */
#include <stdint.h>

#include "tp_board.h"

#define REG(a) (*(volatile uint32_t *)(a))

#define RCC 0x40023800u
#define RCC_CR REG(RCC + 0x00u)
#define RCC_PLLCFGR REG(RCC + 0x04u)
#define RCC_CFGR REG(RCC + 0x08u)
#define RCC_AHB1ENR REG(RCC + 0x30u)
#define RCC_APB1ENR REG(RCC + 0x40u)
#define RCC_CSR REG(RCC + 0x74u)
#define PWR_CR REG(0x40007000u)
#define PWR_CSR REG(0x40007004u)
#define FLASH 0x40023C00u
#define FLASH_ACR REG(FLASH + 0x00u)
#define FLASH_KEYR REG(FLASH + 0x04u)
#define FLASH_SR REG(FLASH + 0x0Cu)
#define FLASH_CR REG(FLASH + 0x10u)
#define GPIOA_MODER REG(0x40020000u)
#define GPIOA_AFRL REG(0x40020020u)
#define USART2 0x40004400u
#define USART_SR REG(USART2 + 0x00u)
#define USART_DR REG(USART2 + 0x04u)
#define USART_BRR REG(USART2 + 0x08u)
#define USART_CR1 REG(USART2 + 0x0Cu)
#define NVIC_ISER1 REG(0xE000E104u)
#define USART2_IRQ 38u
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_AIRCR REG(0xE000ED0Cu)
#define DEMCR REG(0xE000EDFCu)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)

#define CORE_HZ 180000000u
#define APB1_HZ 45000000u
#define BAUD 115200u

const tp_board_desc board_desc = {"nucleo-f446re", CORE_HZ, CORE_HZ, 2, 32, 64};

static void clock_init(void) {
  RCC_APB1ENR |= 1u << 28; /* PWREN */
  (void)RCC_APB1ENR;
  PWR_CR |= 3u << 14; /* VOS = scale 1 (only writable while the PLL is off: it is, after reset) */
  RCC_PLLCFGR = 8u /* PLLM */ | (180u << 6) /* PLLN */ | (0u << 16) /* PLLP = 2 */ | (0u << 22) /* HSI */ |
                (8u << 24) /* PLLQ (unused) */ | (2u << 28) /* PLLR (unused) */;
  RCC_CR |= 1u << 24; /* PLLON */
  while (!(RCC_CR & (1u << 25))) {
  }
  while (!(PWR_CSR & (1u << 14))) { /* VOSRDY */
  }
  PWR_CR |= 1u << 16; /* ODEN */
  while (!(PWR_CSR & (1u << 16))) {
  }
  PWR_CR |= 1u << 17; /* ODSWEN */
  while (!(PWR_CSR & (1u << 17))) {
  }
  FLASH_ACR = 5u | (1u << 8) | (1u << 9) | (1u << 10); /* 5 wait states, prefetch, I-cache, D-cache */
  while ((FLASH_ACR & 0xFu) != 5u) {
  }
  RCC_CFGR = (RCC_CFGR & ~0xFCF3u) | (5u << 10) /* APB1 /4 */ | (4u << 13) /* APB2 /2 */ | 2u /* SW = PLL */;
  while ((RCC_CFGR & 0xCu) != 0x8u) {
  }
}

/* Received bytes: the RX interrupt moves them here (the USART holds one byte; a frame is up to ~1 KB). */
#define RING 2048u
static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail;

void USART2_IRQHandler(void) {
  /* Reading SR then DR clears RXNE and an overrun (ORE); an overrun's lost byte fails the frame's CRC. */
  while (USART_SR & ((1u << 5) | (1u << 3))) {
    uint32_t h = ring_head;
    uint8_t c = (uint8_t)USART_DR;
    if (h - ring_tail < RING) {
      ring[h % RING] = c;
      ring_head = h + 1;
    }
  }
}

static void uart_init(void) {
  RCC_AHB1ENR |= 1u; /* GPIOA */
  RCC_APB1ENR |= 1u << 17; /* USART2 */
  (void)RCC_APB1ENR;
  GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 4)) | (0xAu << 4); /* PA2, PA3: alternate function */
  GPIOA_AFRL = (GPIOA_AFRL & ~(0xFFu << 8)) | (0x77u << 8); /* AF7 = USART2 TX/RX */
  USART_BRR = (APB1_HZ + BAUD / 2u) / BAUD; /* oversampling 16: BRR = fck / baud (391: 115,090 baud, -0.09 %) */
  USART_CR1 = (1u << 13) | (1u << 5) | (1u << 3) | (1u << 2); /* UE, RXNEIE, TE, RE */
  NVIC_ISER1 = 1u << (USART2_IRQ - 32u);
}

/* --- timer --- */

static uint32_t cyc_last, cyc_wraps;

uint64_t board_ticks(void) {
  uint32_t primask;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  uint32_t now = DWT_CYCCNT;
  if (now < cyc_last) cyc_wraps++;
  cyc_last = now;
  uint64_t t = ((uint64_t)cyc_wraps << 32) | now;
  __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
  return t;
}

void SysTick_Handler(void) { (void)board_ticks(); }

/* CYCCNT counts every core cycle from a fixed point of the instruction stream already: nothing to restart. */
void board_timer_sync(void) {}

static void timer_init(void) {
  DEMCR |= 1u << 24; /* TRCENA: power the DWT */
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u; /* CYCCNTENA */
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

/* --- nonce --- */

/* Survive a reset (not cleared by startup): see board_nonce_seed. */
__attribute__((section(".noinit"))) static uint32_t boot_magic, boot_count, boot_garbage[8];
static uint32_t reset_flags;

/*
 * RCC_CSR's reset flags (power-on, pin, software, watchdog: which kind of reset this was), a boot counter in
 * .noinit (changes on every reset without power loss), and SRAM's power-up contents (boot_garbage: not
 * initialised, random-ish after power-on). The handler adds the cycle counter at the first HELLO (depends on
 * when the host connects) and the host's token.
 */
uint32_t board_nonce_seed(void) {
  uint32_t g = 0;
  for (uint32_t i = 0; i < 8u; i++) g = (g << 5 | g >> 27) ^ boot_garbage[i];
  return reset_flags ^ boot_count * 0x9E3779B1u ^ g;
}

void board_reset(void) {
  __asm volatile("dsb");
  SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
  __asm volatile("dsb");
  for (;;) {
  }
}

/* --- UART --- */

int board_uart_getc(void) {
  uint32_t t = ring_tail;
  if (t == ring_head) return -1;
  int c = ring[t % RING];
  ring_tail = t + 1;
  return c;
}

void board_uart_putc(uint8_t c) {
  while (!(USART_SR & (1u << 7))) { /* TXE */
  }
  USART_DR = c;
}

void board_uart_flush(void) {
  while (!(USART_SR & (1u << 6))) { /* TC: the last byte has left the shift register */
  }
}

/*
 * Busy-polls: a real board has no emulator thread to starve (the QEMU port sleeps in WFI for that reason), and
 * CYCCNT stops while the core sleeps, so TIMESTAMP would fall behind the host's clock.
 */
void board_idle(void) {}

/* --- model slot in flash: sectors 2..7 (linker script) --- */

extern uint8_t __slot_start[], __slot_end[];
static const uint32_t sector_end[6] = {16u << 10, 32u << 10, 96u << 10, 224u << 10, 352u << 10, 480u << 10}; /* sectors 2..7 */
#define SR_ERRORS 0x1F2u /* RDERR, PGSERR, PGPERR, PGAERR, WRPERR, OPERR */
#define VERIFY_FAILED 0x80000000u

static void flash_unlock(void) {
  while (FLASH_SR & (1u << 16)) { /* BSY */
  }
  if (FLASH_CR & (1u << 31)) {
    FLASH_KEYR = 0x45670123u;
    FLASH_KEYR = 0xCDEF89ABu;
  }
  FLASH_SR = SR_ERRORS | 1u; /* clear old errors and EOP */
}

/* Locks the controller and drops D-cache lines that may hold the slot's old contents (RM0390 3.5.2). */
static uint32_t flash_done(void) {
  while (FLASH_SR & (1u << 16)) {
  }
  uint32_t err = FLASH_SR & SR_ERRORS;
  FLASH_CR = 1u << 31; /* LOCK */
  FLASH_ACR &= ~(1u << 10);
  FLASH_ACR |= 1u << 12; /* DCRST */
  FLASH_ACR &= ~(1u << 12);
  FLASH_ACR |= 1u << 10;
  return err;
}

/*
 * Erases the sectors a model of len bytes covers: 16 + 16 + 64 + 128 + 128 + 128 KB. The CPU stalls on
 * instruction fetches while the single-bank flash erases (datasheet: 16 KB ~250 ms, 128 KB ~1-2 s at x32;
 * 480 KB typ. ~4 s, max ~8 s), interrupts included: the host sends nothing until the ACK of MODEL_BEGIN.
 */
uint32_t board_slot_erase(uint32_t len) {
  if (len > (uint32_t)(__slot_end - __slot_start)) return VERIFY_FAILED;
  flash_unlock();
  uint32_t err = 0, start = 0;
  for (uint32_t k = 0; k < 6u && start < len && !err; start = sector_end[k++]) {
    FLASH_CR = (2u << 8) /* PSIZE x32 */ | ((k + 2u) << 3) /* SNB */ | 2u /* SER */;
    FLASH_CR |= 1u << 16; /* STRT */
    while (FLASH_SR & (1u << 16)) {
    }
    err = FLASH_SR & SR_ERRORS;
  }
  uint32_t e2 = flash_done();
  return err | e2;
}

/* Programs n bytes at the slot's offset, byte by byte (any alignment; ~16 us per byte, faster than the UART delivers). */
uint32_t board_slot_write(uint32_t offset, const uint8_t *data, uint32_t n) {
  if (offset > (uint32_t)(__slot_end - __slot_start) || n > (uint32_t)(__slot_end - __slot_start) - offset) return VERIFY_FAILED;
  volatile uint8_t *dst = (volatile uint8_t *)(__slot_start + offset);
  flash_unlock();
  FLASH_CR = 1u; /* PG, PSIZE x8 */
  uint32_t err = 0;
  for (uint32_t i = 0; i < n && !err; i++) {
    dst[i] = data[i];
    __asm volatile("dsb" ::: "memory");
    while (FLASH_SR & (1u << 16)) {
    }
    err = FLASH_SR & SR_ERRORS;
  }
  err |= flash_done();
  for (uint32_t i = 0; i < n && !err; i++)
    if (dst[i] != data[i]) err = VERIFY_FAILED;
  return err;
}

void board_init(void) {
  clock_init();
  reset_flags = RCC_CSR & 0xFE000000u;
  RCC_CSR |= 1u << 24; /* RMVF: clear the flags, so the next reset reports only its own cause */
  if (boot_magic != 0x7A4E0B01u) {
    boot_magic = 0x7A4E0B01u;
    boot_count = 0;
  }
  boot_count++;
  timer_init();
  uart_init();
}
