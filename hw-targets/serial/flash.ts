// Real boards: where each firmware port lives, its memory map, and how to flash it with a vendor tool
// (st-flash from stlink-tools, or OpenOCD). `tandem board flash` and the port build test use this.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PortSpec {
  /** Folder name under hw-targets/firmware/ports/. */
  readonly port: string;
  /** Flash for code and constants (the linker's code region), bytes. */
  readonly codeBytes: number;
  /** SRAM, bytes (static buffers + .noinit + the stack). */
  readonly ramBytes: number;
  /** Stack reserved by the linker script, bytes. */
  readonly stackBytes: number;
  /** Model slot (INFO.slotBytes); in flash on real boards. */
  readonly slotBytes: number;
  /** Where the image starts in flash (st-flash write address); undefined for emulated boards. */
  readonly flashBase?: number;
  /** OpenOCD config files (-f), when OpenOCD can flash it. */
  readonly openocd?: readonly string[];
}

export const PORTS: Readonly<Record<string, PortSpec>> = {
  'qemu-mps2-an386': { port: 'qemu-mps2-an386', codeBytes: 4 << 20, ramBytes: 4 << 20, stackBytes: 16 << 10, slotBytes: 1 << 20 },
  'nucleo-f446re': {
    port: 'nucleo-f446re',
    codeBytes: 32 << 10,
    ramBytes: 128 << 10,
    stackBytes: 8 << 10,
    slotBytes: 480 << 10,
    flashBase: 0x0800_0000,
    openocd: ['board/st_nucleo_f4.cfg'],
  },
};

/** The board port's source folder (its Makefile builds build/tandem-fw.elf). */
export function portDir(port: string): string {
  // This file sits in hw-targets/serial/ of the sources, or in dist*/hw-targets/serial/ when compiled.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = join(here, up, 'hw-targets/firmware/ports', port);
    if (existsSync(join(p, 'Makefile'))) return p;
  }
  throw new Error(`firmware port ${port} not found under hw-targets/firmware/ports (from ${here})`);
}

export interface BuildResult {
  readonly elf: string;
  /** make's stdout and stderr together. */
  readonly log: string;
  readonly text: number;
  readonly data: number;
  readonly bss: number;
}

/** Builds a port with make into buildDir (default: the port's build/) under nice 19; throws with the log on failure. */
export function buildPort(port: string, buildDir?: string): BuildResult {
  const dir = portDir(port);
  const args = ['-n', '19', 'make', '-C', dir, ...(buildDir ? [`BUILD=${buildDir}`] : [])];
  const r = spawnSync('nice', args, { encoding: 'utf8' });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) throw new Error(`cannot run make for port ${port}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`make in ${dir} failed (exit ${r.status}):\n${log}`);
  const elf = join(buildDir ?? join(dir, 'build'), 'tandem-fw.elf');
  const size = execFileSync('arm-none-eabi-size', [elf], { encoding: 'utf8' }).trim().split('\n')[1].trim().split(/\s+/).map(Number);
  return { elf, log, text: size[0], data: size[1], bss: size[2] };
}

export function haveTool(cmd: string): boolean {
  return spawnSync('which', [cmd], { stdio: 'ignore' }).status === 0;
}

export interface FlashPlan {
  /** The tool found, or undefined when none is installed. */
  readonly tool?: 'st-flash' | 'openocd';
  readonly command: readonly string[];
  /** What to install when no tool is found (empty when one is). */
  readonly install: string;
}

/** The vendor flasher command for a port's ELF (st-flash preferred, then OpenOCD). */
export function flashPlan(port: string, elf: string, installed: (cmd: string) => boolean = haveTool): FlashPlan {
  const spec = PORTS[port];
  if (!spec?.flashBase) throw new Error(`board ${port} is not a real board with a flasher (real boards: ${realBoards().join(', ')})`);
  const bin = elf.replace(/\.elf$/, '.bin');
  const stflash = ['st-flash', '--reset', 'write', bin, `0x${spec.flashBase.toString(16)}`];
  const openocd = ['openocd', ...(spec.openocd ?? []).flatMap((f) => ['-f', f]), '-c', `program ${elf} verify reset exit`];
  if (installed('st-flash')) return { tool: 'st-flash', command: stflash, install: '' };
  if (spec.openocd && installed('openocd')) return { tool: 'openocd', command: openocd, install: '' };
  return { command: stflash, install: 'sudo apt-get install -y stlink-tools   (or: sudo apt-get install -y openocd)' };
}

export function realBoards(): string[] {
  return Object.entries(PORTS).filter(([, s]) => s.flashBase !== undefined).map(([k]) => k);
}
