/* Cortex-M4F startup for STM32F446RE: vector table (16 + 39 entries, up to USART2), .data copy, .bss clear, FPU on. */
#include <stdint.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern int main(void);
void Reset_Handler(void);
void SysTick_Handler(void);
void USART2_IRQHandler(void);

static void Fault_Handler(void) {
  /* No way to report from here safely: park; the host's timeouts report a silent board. */
  for (;;) {
  }
}

typedef void (*vector_t)(void);

#define USART2_IRQ 38

/* Unused IRQs stay 0: they are never enabled in the NVIC. */
__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + USART2_IRQ + 1] = {
  [0] = (vector_t)(uintptr_t)&__stack_top,
  [1] = Reset_Handler,
  [2] = Fault_Handler,  /* NMI */
  [3] = Fault_Handler,  /* HardFault */
  [4] = Fault_Handler,  /* MemManage */
  [5] = Fault_Handler,  /* BusFault */
  [6] = Fault_Handler,  /* UsageFault */
  [11] = Fault_Handler, /* SVCall */
  [12] = Fault_Handler, /* DebugMon */
  [14] = Fault_Handler, /* PendSV */
  [15] = SysTick_Handler,
  [16 + USART2_IRQ] = USART2_IRQHandler,
};

void Reset_Handler(void) {
  /* CP10/CP11 full access first: the code is built for the hard-float ABI and may touch FPU registers. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm volatile("dsb\n isb");
  uint32_t *src = &__data_load;
  for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  main();
  for (;;) {
  }
}
