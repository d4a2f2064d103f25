/* Cortex-M4 startup for QEMU mps2-an386: vector table, .data copy, .bss clear, FPU access, main. */
#include <stdint.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern int main(void);
void Reset_Handler(void);
void SysTick_Handler(void);
void UART0RX_Handler(void);

static void Fault_Handler(void) {
  /* No way to report from here safely: park; the host's timeouts report a silent board. */
  for (;;) {
  }
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + 1] = {
  (vector_t)(uintptr_t)&__stack_top,
  Reset_Handler,
  Fault_Handler, /* NMI */
  Fault_Handler, /* HardFault */
  Fault_Handler, /* MemManage */
  Fault_Handler, /* BusFault */
  Fault_Handler, /* UsageFault */
  0, 0, 0, 0,
  Fault_Handler, /* SVCall */
  Fault_Handler, /* DebugMon */
  0,
  Fault_Handler, /* PendSV */
  SysTick_Handler,
  UART0RX_Handler, /* IRQ 0 */
};

void Reset_Handler(void) {
  uint32_t *src = &__data_load;
  for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  /* CP10/CP11 full access, in case the runtime is built with the FPU enabled. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm volatile("dsb\n isb");
  main();
  for (;;) {
  }
}
