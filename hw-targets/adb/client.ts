// The `adb` executable, one device: every call bounded by a timeout and cancellable, and every failure an
// AdbError naming the serial, the command and what adb said. Which adb: $TANDEM_ADB, else `adb` on PATH
// (tests point $TANDEM_ADB at hw-targets/adb/standin/adb-standin, a stand-in, because no phone is attached).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';

export class AdbError extends Error {
  constructor(
    message: string,
    /** adb's exit code (for `shell`: the device command's), when it ran. */
    readonly exitCode?: number,
    readonly stderr?: string,
  ) {
    super(message);
    this.name = 'AdbError';
  }
}

export interface AdbResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface AdbCallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const SIGNALS: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };
/** 'signal 11 (SIGSEGV)' for a shell exit code of 128 + 11. */
export const signalName = (exitCode: number) => `signal ${exitCode - 128}${SIGNALS[exitCode - 128] ? ` (${SIGNALS[exitCode - 128]})` : ''}`;

/** The adb to run: $TANDEM_ADB (must exist) or `adb` from PATH (checked when it is started). */
export function adbPath(env: NodeJS.ProcessEnv = process.env): string {
  const p = env.TANDEM_ADB;
  if (p === undefined || p === '') return 'adb';
  if (!fs.existsSync(p)) throw new AdbError(`$TANDEM_ADB is ${p}, which does not exist`);
  return p;
}

export class Adb {
  constructor(
    readonly serial: string,
    readonly exe: string = adbPath(),
    /** Default timeout of one adb call (ms). */
    readonly timeoutMs = 60_000,
  ) {}

  /** `adb -s SERIAL args...`; rejects with an AdbError (exit code, adb's stderr) unless it exits 0. */
  call(args: readonly string[], o: AdbCallOptions = {}): Promise<AdbResult> {
    const timeout = o.timeoutMs ?? this.timeoutMs;
    const what = `adb -s ${this.serial} ${args.join(' ')}`;
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(o.signal.reason instanceof Error ? o.signal.reason : new Error('cancelled'));
      execFile(this.exe, ['-s', this.serial, ...args], { timeout, killSignal: 'SIGTERM', signal: o.signal, maxBuffer: 1 << 28, encoding: 'utf8' }, (e, stdout, stderr) => {
        if (!e) return resolve({ stdout, stderr });
        const err = e as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
        if (err.name === 'AbortError') return reject(o.signal?.reason instanceof Error ? o.signal.reason : err);
        if (err.code === 'ENOENT')
          return reject(new AdbError(`${this.exe === 'adb' ? 'adb is not on PATH' : `cannot run ${this.exe}`}: install Android's platform tools (Debian: apt-get install adb) or set $TANDEM_ADB to the adb executable`));
        if (err.killed || err.signal) return reject(new AdbError(`${what}: no answer within ${(timeout / 1000).toFixed(0)} s (device ${this.serial}); killed`, undefined, stderr));
        const code = typeof err.code === 'number' ? err.code : 1;
        const said = (stderr.trim() || stdout.trim()).split('\n').slice(-6).join(' | ');
        reject(new AdbError(`${what} failed (exit ${code}): ${said || 'no message'}`, code, stderr));
      });
    });
  }

  shell(command: string, o: AdbCallOptions = {}): Promise<AdbResult> {
    return this.call(['shell', command], o);
  }
}
