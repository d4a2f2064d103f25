// Starts the QEMU mps2-an386 board (Cortex-M4) with its UART0 on a fresh pty and returns that pty's path.
// QEMU is killed on close(), and when this process exits or gets SIGINT/SIGTERM, so no board outlives us.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface QemuOptions {
  /** Firmware ELF (default: the port's build/tandem-fw.elf in the source tree). */
  readonly elf?: string;
  /** -icount shift=0: deterministic virtual time (one instruction = 1 ns). Default true. */
  readonly icount?: boolean;
  /** Run QEMU under `nice -n N` (default: none). */
  readonly nice?: number;
  /** Wait for QEMU to report its pty. */
  readonly startTimeoutMs?: number;
  readonly qemu?: string;
}

export interface QemuBoard {
  /** The pty QEMU connected UART0 to, e.g. /dev/pts/5. */
  readonly ptyPath: string;
  readonly pid: number;
  /** Resolves when QEMU exits (its exit code, or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Kills QEMU (SIGKILL: a hard unplug) and waits for it to exit. */
  close(): Promise<void>;
}

/** The QEMU board port's source folder (its Makefile builds build/tandem-fw.elf). */
export function firmwarePortDir(): string {
  // This file sits in hw-targets/serial/ of the sources, or in dist*/hw-targets/serial/ when compiled.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = join(here, up, 'hw-targets/firmware/ports/qemu-mps2-an386');
    if (existsSync(join(p, 'Makefile'))) return p;
  }
  return join(here, '../..', 'hw-targets/firmware/ports/qemu-mps2-an386');
}

/** The firmware ELF built by `make` in the port folder. */
export function defaultFirmwareElf(): string {
  return join(firmwarePortDir(), 'build/tandem-fw.elf');
}

const live = new Set<ChildProcess>();
let hooked = false;

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of live) c.kill('SIGKILL');
      // Our listener replaced the default action: die of the same signal.
      process.kill(process.pid, sig);
    });
  }
}

export async function startQemuBoard(o: QemuOptions = {}): Promise<QemuBoard> {
  const elf = o.elf ?? defaultFirmwareElf();
  if (!existsSync(elf)) throw new Error(`firmware ${elf} not found (run make in hw-targets/firmware/ports/qemu-mps2-an386)`);
  const qemu = o.qemu ?? 'qemu-system-arm';
  const args = ['-M', 'mps2-an386', '-nographic', '-monitor', 'none', '-serial', 'pty', ...(o.icount === false ? [] : ['-icount', 'shift=0']), '-kernel', elf];
  const [cmd, argv] = o.nice !== undefined ? ['nice', ['-n', String(o.nice), qemu, ...args]] : [qemu, args];
  hookProcessExit();
  // nice execs QEMU, so the child's pid is QEMU's.
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  let log = '';
  const ptyPath = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`QEMU did not report its pty within ${o.startTimeoutMs ?? 10000} ms: ${log.trim()}`)), o.startTimeoutMs ?? 10000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /char device redirected to (\S+) \(label serial0\)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => fail(new Error(`cannot start ${qemu}: ${e.message}`)));
    child.once('exit', (code) => fail(new Error(`QEMU exited (code ${code}) before reporting its pty: ${log.trim()}`)));
  });
  return {
    ptyPath,
    pid: child.pid ?? -1,
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
