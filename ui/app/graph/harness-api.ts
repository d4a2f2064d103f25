// What the test/benchmark harness page (harness.ts) exposes as window.graphHarness: plain data, DOM-free, so
// the Node-side tests can type what page.evaluate returns.
import type { ModelGraph } from '../../api/types.js';

export interface HarnessTimings {
  /** Graph handed over -> data-ready (layout in the worker, copying, drawing). */
  readonly readyMs: number;
  /** The layout alone, inside the worker. */
  readonly layoutMs: number;
  readonly roundTripMs: number;
  /** Building the SVG (d3), after the layout arrived. */
  readonly drawMs: number;
  /** Graph handed over -> the next frame after data-ready (the browser's style, layout and paint too). */
  readonly frameMs: number;
}

/** A rectangle in page (CSS pixel) coordinates. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DrawnNode {
  readonly id: string;
  readonly box: Rect;
  readonly title: string;
  readonly lines: readonly string[];
  readonly decision: string | null;
  readonly classes: readonly string[];
  /** Largest amount by which a text line runs past its box's right edge, in SVG units (<= 0: all fit). */
  readonly textOverflow: number;
}

export interface DrawnEdge {
  readonly from: string;
  readonly to: string;
  /** Ends of the drawn path, page coordinates. */
  readonly start: { readonly x: number; readonly y: number };
  readonly end: { readonly x: number; readonly y: number };
  readonly selected: boolean;
}

/** What the page shows, read back from the DOM. */
export interface DrawnFacts {
  readonly nodes: readonly DrawnNode[];
  readonly edges: readonly DrawnEdge[];
  readonly svg: Rect;
  readonly zoom: { readonly x: number; readonly y: number; readonly k: number };
  readonly far: boolean;
  readonly ready: boolean;
}

export interface GraphHarness {
  show(graph: ModelGraph): Promise<HarnessTimings>;
  facts(): DrawnFacts;
  /** Pans the shown graph a little every animation frame; the frame-to-frame intervals, ms. */
  panFrames(frames: number): Promise<number[]>;
}
