// Writes that never leave a half-written file behind: write a sibling temp path, then rename.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, promises as fs, renameSync, rmSync, writeSync } from 'node:fs';
import * as path from 'node:path';

function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** writeFileAtomic for callers that must not interleave (successive states of one small file). */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Fills a directory through `fill(tmpDir)` and moves it into place only if `fill` succeeds.
 * An existing directory at `target` is replaced; if anything fails, it is left as it was.
 */
export async function writeDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tempSibling(target);
  const old = `${tmp}.old`;
  await fs.mkdir(tmp);
  try {
    await fill(tmp);
    let hadOld = false;
    try {
      await fs.rename(target, old);
      hadOld = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      await fs.rename(tmp, target);
    } catch (e) {
      if (hadOld) await fs.rename(old, target);
      throw e;
    }
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
