// `tandem board emulate`: the QEMU mps2-an386 board (Cortex-M4, the Tandem firmware) on a pty, until Ctrl-C;
// it prints the pty path for `tandem profile --target serial:<pty>`. `tandem board flash`: a real board via its vendor flasher.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SerialBoard } from '../../hw-targets/serial/board.js';
import { PORTS, buildPort, flashPlan, realBoards } from '../../hw-targets/serial/flash.js';
import { startQemuBoard } from '../../hw-targets/serial/qemu.js';
import { buildQemuFirmware } from '../../hw-targets/targets/open.js';

export interface BoardEmulateFlags {
  readonly elf?: string;
  readonly icount?: boolean;
  readonly json?: boolean;
}

export async function boardEmulateCommand(f: BoardEmulateFlags): Promise<void> {
  if (!f.elf) await buildQemuFirmware();
  const q = await startQemuBoard({ elf: f.elf, icount: f.icount });
  // Check that the firmware answers, then free the port for whoever connects next.
  let info;
  try {
    const b = await SerialBoard.open(q.ptyPath, { heartbeatMs: 0 });
    try {
      info = await b.hello();
    } finally {
      await b.close();
    }
  } catch (e) {
    await q.close();
    throw new Error(`QEMU board on ${q.ptyPath} does not answer HELLO: ${(e as Error).message}`);
  }
  const out = { pty: q.ptyPath, pid: q.pid, boardId: info.boardId, runtime: info.runtimeId, coreClockHz: info.coreClockHz, icount: f.icount !== false };
  process.stdout.write(
    f.json
      ? JSON.stringify(out) + '\n'
      : `${info.boardId} (${info.runtimeId}, ${info.coreClockHz / 1e6} MHz${out.icount ? ', -icount shift=0' : ''}) on ${q.ptyPath}\n` +
          `  tandem profile <model> --target serial:${q.ptyPath}\nCtrl-C stops it.\n`,
  );
  // QEMU is killed on Ctrl-C by the launcher's own handler (hw-targets/serial/qemu.ts); if it dies first, so do we.
  const code = await q.exited;
  throw new Error(`QEMU exited (code ${code})`);
}

export interface BoardFlashFlags {
  readonly board: string;
  readonly elf?: string;
  /** Print the plan only (what would run, or what to install). */
  readonly dryRun?: boolean;
}

/**
 * `tandem board flash --board nucleo-f446re [--elf path]`: builds the port's firmware (unless --elf) and runs the
 * vendor flasher that is installed (st-flash, else OpenOCD). Without one it prints what to install and the
 * command to run, and fails: flashing cannot be faked.
 */
export async function boardFlashCommand(f: BoardFlashFlags): Promise<void> {
  const spec = PORTS[f.board];
  if (!spec?.flashBase) throw new Error(`--board ${f.board}: not a real board this command can flash (known: ${realBoards().join(', ')})`);
  let elf = f.elf;
  if (elf) {
    if (!existsSync(elf)) throw new Error(`--elf ${elf} does not exist`);
  } else {
    const b = buildPort(spec.port);
    elf = b.elf;
    process.stdout.write(`built ${elf}: text ${b.text} B, data ${b.data} B, bss ${b.bss} B (flash for code ${spec.codeBytes} B, SRAM ${spec.ramBytes} B)\n`);
  }
  const bin = elf.replace(/\.elf$/, '.bin');
  if (!existsSync(bin)) execFileSync('arm-none-eabi-objcopy', ['-O', 'binary', elf, bin]);
  const plan = flashPlan(f.board, elf);
  const line = plan.command.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  if (!plan.tool) {
    process.stderr.write(`no flasher found for ${f.board} (st-flash or openocd on PATH). Install one:\n  ${plan.install}\nthen run:\n  ${line}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${line}\n`);
  if (f.dryRun) return;
  const r = spawnSync(plan.command[0], plan.command.slice(1), { stdio: 'inherit' });
  if (r.error) throw new Error(`cannot run ${plan.tool}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${plan.tool} failed (exit ${r.status}) flashing ${elf} to ${f.board}; is the board plugged in (ST-LINK USB)?`);
  process.stdout.write(`flashed ${f.board}; its ST-LINK virtual COM port (e.g. /dev/ttyACM0) speaks protocol v1 at 115200 baud:\n  tandem profile <model> --target serial:/dev/ttyACM0\n`);
}
