// Where the 3D dataflow view puts things: a pure function of the Schedule and the programming round shown
// (no three.js, no DOM, so Node tests check it). Tiles are plates on a grid in the xz plane, a tile's
// arrays sit on it in a grid of slots, the digital unit is a slab in front of the tiles. Each array used in
// the round is one box: the colour of the layer holding most of its cells, darker and lower the fewer of
// its cells the round's blocks use.
import { interpolateRainbow, rgb, schemeTableau10 } from 'd3';
import type { Schedule } from '../../../compiler/lower/schedule.js';

/** sRGB components in [0, 1]. */
export type Rgb = readonly [number, number, number];

export interface ArrayItem {
  /** Global array index (tile = floor(array / arraysPerTile)). */
  readonly array: number;
  readonly tile: number;
  /** Centre of the box's footprint on its plate. */
  readonly x: number;
  readonly z: number;
  readonly height: number;
  /** Σ blocks' physicalRows × physicalCols / (crossbar rows × cols), in [0, 1]. */
  readonly utilisation: number;
  /** The layer with the most cells on the array. */
  readonly layer: string;
  /** The layer's colour shaded by utilisation. */
  readonly color: Rgb;
  /** Indices into schedule.blocks, in schedule order. */
  readonly blocks: readonly number[];
}

export interface Rect {
  readonly x: number;
  readonly z: number;
  readonly width: number;
  readonly depth: number;
}

export interface TileItem extends Rect {
  readonly tile: number;
}

export interface LegendItem {
  readonly layer: string;
  readonly origin: string;
  readonly color: Rgb;
  /** Arrays the layer dominates in the round. */
  readonly arrays: number;
}

export interface DataflowLayout {
  readonly round: number;
  /** One per array used in the round, by global array index: the instance order of the scene. */
  readonly arrays: readonly ArrayItem[];
  /** Global array index → index into `arrays`. */
  readonly instanceOf: ReadonlyMap<number, number>;
  /** Every tile of the accelerator, used or not. */
  readonly tiles: readonly TileItem[];
  /** Footprint of one array box (x along columns, z along rows). */
  readonly arrayWidth: number;
  readonly arrayDepth: number;
  /** Plates' thickness; arrays stand on y = PLATE_HEIGHT. */
  readonly plateHeight: number;
  readonly digital: Rect;
  /** Extent of everything on the floor. */
  readonly bounds: { readonly minX: number; readonly maxX: number; readonly minZ: number; readonly maxZ: number };
  /** Layers with arrays in this round, in schedule order. */
  readonly legend: readonly LegendItem[];
}

const SLOT_GAP = 0.25;
const PLATE_MARGIN = 0.3;
const TILE_GAP = 0.8;
const PLATE_HEIGHT = 0.1;
const MIN_HEIGHT = 0.08;
const HEIGHT_PER_UTILISATION = 0.5;
/** Share of the layer colour an empty array keeps (so a nearly empty array still shows its layer). */
const MIN_BRIGHTNESS = 0.5;
/** How far a lit array (the current step's) moves towards white. */
const LIT_MIX = 0.6;

/** Categorical colours for the crossbar layers in schedule order: Tableau10, then golden-ratio steps
 * around the rainbow so neighbours differ however many layers there are. */
export function layerPalette(schedule: Schedule): ReadonlyMap<string, Rgb> {
  const withBlocks = new Set(schedule.blocks.map((b) => b.layer));
  const layers = schedule.layers.filter((l) => withBlocks.has(l.layer)).map((l) => l.layer);
  const out = new Map<string, Rgb>();
  layers.forEach((layer, i) => {
    const c = rgb(layers.length <= schemeTableau10.length ? schemeTableau10[i] : interpolateRainbow((i * 0.618033988749895) % 1));
    out.set(layer, [c.r / 255, c.g / 255, c.b / 255]);
  });
  return out;
}

function shade(c: Rgb, utilisation: number): Rgb {
  const k = MIN_BRIGHTNESS + (1 - MIN_BRIGHTNESS) * utilisation;
  return [c[0] * k, c[1] * k, c[2] * k];
}

export function lit(c: Rgb): Rgb {
  return [c[0] + (1 - c[0]) * LIT_MIX, c[1] + (1 - c[1]) * LIT_MIX, c[2] + (1 - c[2]) * LIT_MIX];
}

/** The rounds that have blocks, ascending. */
export function roundsOf(schedule: Schedule): number[] {
  return [...new Set(schedule.blocks.map((b) => b.round))].sort((a, b) => a - b);
}

export function layoutSchedule(schedule: Schedule, round: number, palette: ReadonlyMap<string, Rgb> = layerPalette(schedule)): DataflowLayout {
  const { rows, cols } = schedule.spec.crossbar;
  const perTile = schedule.spec.architecture.arraysPerTile;
  const tileCount = schedule.spec.architecture.tiles;
  const side = Math.max(rows, cols);
  const arrayWidth = cols / side;
  const arrayDepth = rows / side;
  const slotX = arrayWidth + SLOT_GAP;
  const slotZ = arrayDepth + SLOT_GAP;
  // Arrays in a near-square grid on each plate, plates in a near-square grid on the floor.
  const slotCols = Math.ceil(Math.sqrt(perTile));
  const slotRows = Math.ceil(perTile / slotCols);
  const plateW = slotCols * slotX + 2 * PLATE_MARGIN - SLOT_GAP;
  const plateD = slotRows * slotZ + 2 * PLATE_MARGIN - SLOT_GAP;
  const tileCols = Math.ceil(Math.sqrt(tileCount));
  const tileRows = Math.ceil(tileCount / tileCols);
  const totalW = tileCols * (plateW + TILE_GAP) - TILE_GAP;
  const totalD = tileRows * (plateD + TILE_GAP) - TILE_GAP;
  const tileX = (t: number) => (t % tileCols) * (plateW + TILE_GAP) - totalW / 2;
  const tileZ = (t: number) => Math.floor(t / tileCols) * (plateD + TILE_GAP) - totalD / 2;

  const tiles: TileItem[] = Array.from({ length: tileCount }, (_, t) => ({ tile: t, x: tileX(t) + plateW / 2, z: tileZ(t) + plateD / 2, width: plateW, depth: plateD }));

  const byArray = new Map<number, number[]>();
  schedule.blocks.forEach((b, i) => {
    if (b.round !== round) return;
    const list = byArray.get(b.array);
    if (list) list.push(i);
    else byArray.set(b.array, [i]);
  });
  const cellsPerArray = rows * cols;
  const arrays: ArrayItem[] = [...byArray.keys()]
    .sort((a, b) => a - b)
    .map((array) => {
      const blocks = byArray.get(array)!;
      const cellsOf = new Map<string, number>();
      let used = 0;
      for (const i of blocks) {
        const b = schedule.blocks[i];
        const n = b.physicalRows * b.physicalCols;
        used += n;
        cellsOf.set(b.layer, (cellsOf.get(b.layer) ?? 0) + n);
      }
      let layer = schedule.blocks[blocks[0]].layer;
      for (const [l, n] of cellsOf) if (n > cellsOf.get(layer)!) layer = l;
      const utilisation = Math.min(1, used / cellsPerArray);
      const tile = Math.floor(array / perTile);
      const slot = array % perTile;
      return {
        array,
        tile,
        x: tileX(tile) + PLATE_MARGIN + (slot % slotCols) * slotX + arrayWidth / 2,
        z: tileZ(tile) + PLATE_MARGIN + Math.floor(slot / slotCols) * slotZ + arrayDepth / 2,
        height: MIN_HEIGHT + HEIGHT_PER_UTILISATION * utilisation,
        utilisation,
        layer,
        color: shade(palette.get(layer) ?? [0.5, 0.5, 0.5], utilisation),
        blocks,
      };
    });
  const instanceOf = new Map(arrays.map((a, i) => [a.array, i]));

  const digital: Rect = { x: 0, z: totalD / 2 + 1.5, width: Math.max(plateW, totalW / 3), depth: 1 };
  const counts = new Map<string, number>();
  for (const a of arrays) counts.set(a.layer, (counts.get(a.layer) ?? 0) + 1);
  const legend = schedule.layers
    .filter((l) => counts.has(l.layer))
    .map((l) => ({ layer: l.layer, origin: l.origin, color: palette.get(l.layer)!, arrays: counts.get(l.layer)! }));
  return {
    round,
    arrays,
    instanceOf,
    tiles,
    arrayWidth,
    arrayDepth,
    plateHeight: PLATE_HEIGHT,
    digital,
    bounds: { minX: -totalW / 2, maxX: totalW / 2, minZ: -totalD / 2, maxZ: digital.z + digital.depth / 2 },
    legend,
  };
}
