// `tandem board emulate`: the QEMU mps2-an386 board (Cortex-M4, the Tandem firmware) on a pty, until Ctrl-C.
// Prints the pty path for `tandem profile --target serial:<pty>` or any other serial tool.
import { SerialBoard } from '../../hw-targets/serial/board.js';
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
