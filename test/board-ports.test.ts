// Every firmware port builds with Debian's arm-none-eabi-gcc, warning-free (-Werror makes a warning fatal;
// the log must not even mention one), into a temporary folder, and fits its board: code in the code region,
// static RAM + .noinit + the stack in SRAM. The NUCLEO-F446RE image cannot be flashed here; its build is the check.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PORTS, buildPort, flashPlan, haveTool } from '../hw-targets/serial/flash.js';

const skip = ['arm-none-eabi-gcc', 'make'].filter((t) => !haveTool(t)).join(', ');

for (const [name, spec] of Object.entries(PORTS)) {
  test(`firmware port ${name} builds with zero warnings and fits ${spec.codeBytes >> 10} KB code / ${spec.ramBytes >> 10} KB RAM`, { skip: skip ? `missing ${skip}` : false }, () => {
    const dir = mkdtempSync(join(tmpdir(), `tandem-fw-${name}-`));
    try {
      const r = buildPort(name, dir);
      assert.doesNotMatch(r.log, /warning/i, r.log);
      const code = r.text + r.data;
      const ram = r.data + r.bss + spec.stackBytes;
      console.log(`${name}: text ${r.text} data ${r.data} bss ${r.bss}; code ${code} / ${spec.codeBytes} B, RAM ${ram} / ${spec.ramBytes} B (stack ${spec.stackBytes}), slot ${spec.slotBytes} B`);
      assert.ok(code <= spec.codeBytes, `code ${code} B exceeds ${spec.codeBytes} B`);
      assert.ok(ram <= spec.ramBytes, `RAM ${ram} B exceeds ${spec.ramBytes} B`);
      // The slot the linker script reserves is the one INFO reports (main.c passes __slot_end - __slot_start).
      const syms = execFileSync('arm-none-eabi-nm', [r.elf], { encoding: 'utf8' });
      const sym = (s: string) => parseInt(new RegExp(`^([0-9a-f]+) \\w ${s}$`, 'm').exec(syms)?.[1] ?? 'NaN', 16);
      if (spec.flashBase !== undefined) {
        assert.equal(sym('__slot_end') - sym('__slot_start'), spec.slotBytes);
        assert.equal(sym('__slot_start'), spec.flashBase + spec.codeBytes, 'slot right after the code sectors');
        assert.ok(442_332 <= spec.slotBytes, 'the fmnist-vgg blob (442,332 B) fits the slot');
        assert.equal(sym('vectors'), spec.flashBase, 'vector table at the start of flash');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('flash plan: st-flash first, then OpenOCD, else what to install', () => {
  const elf = '/x/build/tandem-fw.elf';
  assert.deepEqual(flashPlan('nucleo-f446re', elf, (c) => c === 'st-flash').command, ['st-flash', '--reset', 'write', '/x/build/tandem-fw.bin', '0x8000000']);
  const o = flashPlan('nucleo-f446re', elf, (c) => c === 'openocd');
  assert.equal(o.tool, 'openocd');
  assert.deepEqual(o.command, ['openocd', '-f', 'board/st_nucleo_f4.cfg', '-c', `program ${elf} verify reset exit`]);
  const none = flashPlan('nucleo-f446re', elf, () => false);
  assert.equal(none.tool, undefined);
  assert.match(none.install, /stlink-tools/);
  assert.throws(() => flashPlan('qemu-mps2-an386', elf), /not a real board.*nucleo-f446re/);
});
