// Test and benchmark page for the dataflow view (not part of the app bundle): test/ui-dataflow.test.ts and
// bench/ui-dataflow.ts bundle it with buildUi and serve it with a Schedule (and a Report) from the page's
// origin. It mounts the real view body and exposes it, plus frame-rate measurements, on window.dfHarness.
import type { Report } from '../../../compiler/contracts/report.js';
import type { Schedule } from '../../../compiler/lower/schedule.js';
import { type DataflowHandle, mountDataflow } from './mount.js';

export interface HarnessMount {
  readonly schedule: string;
  readonly report?: string;
  /** Stage size in CSS pixels (default: the stylesheet's). */
  readonly width?: number;
  readonly height?: number;
  readonly stepMs?: number;
  readonly pixelRatio?: number;
  readonly antialias?: boolean;
  readonly detailPx?: number;
}

async function decode(pngBase64: string): Promise<CanvasRenderingContext2D> {
  const img = new Image();
  img.src = `data:image/png;base64,${pngBase64}`;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(img, 0, 0);
  return ctx;
}

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

const harness = {
  handle: undefined as DataflowHandle | undefined,
  el: document.getElementById('view')!,

  async mount(o: HarnessMount): Promise<number> {
    harness.handle?.dispose();
    const [schedule, report] = await Promise.all([json<Schedule>(o.schedule), o.report ? json<Report>(o.report) : undefined]);
    const h = mountDataflow(harness.el, schedule, { report, stepMs: o.stepMs, pixelRatio: o.pixelRatio, antialias: o.antialias, detailPx: o.detailPx });
    const stage = harness.el.querySelector<HTMLElement>('.df-stage')!;
    if (o.width) {
      stage.style.flex = 'none';
      stage.style.width = `${o.width}px`;
    }
    if (o.height) stage.style.height = `${o.height}px`;
    harness.handle = h;
    return h.scene.arrays.count;
  },

  /** Pixels (RGB 0–255) of a PNG screenshot at the given points. */
  async pixels(pngBase64: string, points: readonly { x: number; y: number }[]): Promise<number[][]> {
    const ctx = await decode(pngBase64);
    return points.map((p) => Array.from(ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data.slice(0, 3)));
  },

  /** Per group of colours (RGB 0–255): how many pixels of the screenshot's `rect` are within `tol` of
   * one of the group's colours in every channel. */
  async colorCounts(pngBase64: string, rect: { x: number; y: number; width: number; height: number }, groups: readonly (readonly number[][])[], tol: number): Promise<number[]> {
    const ctx = await decode(pngBase64);
    const d = ctx.getImageData(Math.round(rect.x), Math.round(rect.y), Math.round(rect.width), Math.round(rect.height)).data;
    const counts = groups.map(() => 0);
    for (let i = 0; i < d.length; i += 4) {
      const g = groups.findIndex((cs) => cs.some((c) => Math.abs(c[0] - d[i]) <= tol && Math.abs(c[1] - d[i + 1]) <= tol && Math.abs(c[2] - d[i + 2]) <= tol));
      if (g >= 0) counts[g]++;
    }
    return counts;
  },

  /** The fraction of full resolution the scene settled at while moving (dynamic resolution). */
  motionResolution(): number {
    return harness.handle!.scene.motionResolution;
  },

  /** Frames the scene actually drew per second (its frame counter against rAF timestamps), in windows of
   * `windowMs`; the view plays and orbits meanwhile. */
  async fps(windows: number, windowMs: number): Promise<number[]> {
    const h = harness.handle!;
    h.play(true);
    h.scene.setAutoRotate(true);
    const out: number[] = [];
    await new Promise<void>((resolve) => {
      let t0 = -1;
      let f0 = 0;
      const tick = (t: number) => {
        if (t0 < 0) {
          t0 = t;
          f0 = h.scene.frames;
        } else if (t - t0 >= windowMs) {
          out.push(((h.scene.frames - f0) * 1000) / (t - t0));
          t0 = t;
          f0 = h.scene.frames;
        }
        if (out.length < windows) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    h.play(false);
    h.scene.setAutoRotate(false);
    return out;
  },

  /** The ceiling the page's compositor puts on any canvas of this size: frames per second of a WebGL
   * canvas (three's context attributes, no multisampling) that is only cleared each frame. */
  async clearFps(width: number, height: number, windows: number, windowMs: number): Promise<number[]> {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    harness.el.append(c);
    const gl = c.getContext('webgl2', { antialias: false, alpha: false, depth: true, stencil: false })!;
    const out: number[] = [];
    await new Promise<void>((resolve) => {
      let t0 = -1;
      let n = 0;
      const tick = (t: number) => {
        gl.clearColor((n % 2) * 0.5, 0.2, 0.3, 1);
        gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
        if (t0 < 0) t0 = t;
        else n++;
        if (t - t0 >= windowMs) {
          out.push((n * 1000) / (t - t0));
          t0 = t;
          n = 0;
        }
        if (out.length < windows) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    c.remove();
    return out;
  },

  /** Milliseconds per render() timed directly, each synced with a 1-pixel readPixels (the GPU, here
   * SwiftShader, has finished the frame when it returns). Playback is stepped and the camera turned
   * between renders so every frame differs. */
  timedRenders(n: number): number[] {
    const h = harness.handle!;
    const gl = h.scene.renderer.getContext();
    const px = new Uint8Array(4);
    const ms: number[] = [];
    h.play(true);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      h.scene.frameHook?.(t0);
      h.scene.controls.autoRotate = true;
      h.scene.controls.update(1 / 60);
      h.scene.render();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      ms.push(performance.now() - t0);
    }
    h.play(false);
    h.scene.setAutoRotate(false);
    return ms;
  },
};

declare global {
  interface Window {
    dfHarness: typeof harness;
  }
}
window.dfHarness = harness;
