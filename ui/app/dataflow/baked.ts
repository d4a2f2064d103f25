// Draws an InstancedMesh's instances as one merged geometry (positions transformed, colours multiplied in
// on the CPU). Software WebGL (SwiftShader: headless test machines, many VMs) runs an instanced draw as one
// internal draw per instance, about 30 µs each: 10,000 arrays took 330 ms a frame as an InstancedMesh, a
// few ms merged. The InstancedMesh stays the model (matrices, setColorAt, count, raycasting by
// instanceId); this is only how it reaches the screen.
//
// Level of detail: the first `coarse` indices of the base geometry (a box's top face) come first for all
// instances, the rest (its sides) after, so drawing only the coarse part is a shorter draw range.
import { BufferAttribute, BufferGeometry, type InstancedMesh, type Material, Mesh } from 'three';

export class BakedInstances {
  readonly mesh: Mesh;
  private readonly pos: Float32Array;
  private readonly col: Float32Array;
  private readonly index: Uint32Array;
  private readonly basePos: ArrayLike<number>;
  private readonly baseCol: ArrayLike<number>;
  private readonly baseIndex: ArrayLike<number>;
  private readonly nv: number;
  private full = true;

  constructor(
    private readonly source: InstancedMesh,
    material: Material,
    private readonly coarse = 0,
  ) {
    const g = source.geometry;
    this.basePos = g.attributes.position.array;
    this.baseCol = g.attributes.color.array;
    this.baseIndex = g.index!.array;
    this.nv = g.attributes.position.count;
    const cap = source.instanceMatrix.count;
    this.pos = new Float32Array(cap * this.nv * 3);
    this.col = new Float32Array(cap * this.nv * 3);
    this.index = new Uint32Array(cap * this.baseIndex.length);
    const merged = new BufferGeometry();
    merged.setAttribute('position', new BufferAttribute(this.pos, 3));
    merged.setAttribute('color', new BufferAttribute(this.col, 3));
    merged.setIndex(new BufferAttribute(this.index, 1));
    merged.setDrawRange(0, 0);
    this.mesh = new Mesh(merged, material);
    this.mesh.matrixAutoUpdate = false;
    // Unused slots hold stale positions; the floor is small enough to always draw.
    this.mesh.frustumCulled = false;
  }

  /** Re-bakes positions, colours and indices of instances [0, source.count). */
  update(): void {
    const n = this.source.count;
    const M = this.source.instanceMatrix.array;
    const p = this.basePos;
    const bi = this.baseIndex;
    const rest = bi.length - this.coarse;
    for (let i = 0; i < n; i++) {
      const m = 16 * i;
      for (let v = 0; v < this.nv; v++) {
        const x = p[3 * v];
        const y = p[3 * v + 1];
        const z = p[3 * v + 2];
        const o = 3 * (i * this.nv + v);
        this.pos[o] = M[m] * x + M[m + 4] * y + M[m + 8] * z + M[m + 12];
        this.pos[o + 1] = M[m + 1] * x + M[m + 5] * y + M[m + 9] * z + M[m + 13];
        this.pos[o + 2] = M[m + 2] * x + M[m + 6] * y + M[m + 10] * z + M[m + 14];
      }
      this.bakeColor(i);
      for (let k = 0; k < this.coarse; k++) this.index[i * this.coarse + k] = bi[k] + i * this.nv;
      for (let k = 0; k < rest; k++) this.index[n * this.coarse + i * rest + k] = bi[this.coarse + k] + i * this.nv;
    }
    const g = this.mesh.geometry;
    for (const a of [g.attributes.position, g.attributes.color, g.index!]) a.needsUpdate = true;
    this.setDetail(this.full);
  }

  /** Full geometry, or only each instance's coarse part. */
  setDetail(full: boolean): void {
    this.full = full;
    this.mesh.geometry.setDrawRange(0, this.source.count * (full ? this.baseIndex.length : this.coarse));
  }

  /** Re-bakes the colours of the given instances (after setColorAt). */
  updateColors(instances: Iterable<number>): void {
    for (const i of instances) this.bakeColor(i);
    this.mesh.geometry.attributes.color.needsUpdate = true;
  }

  dispose(): void {
    this.mesh.geometry.dispose();
  }

  private bakeColor(i: number): void {
    const C = this.source.instanceColor?.array;
    const r = C ? C[3 * i] : 1;
    const g = C ? C[3 * i + 1] : 1;
    const b = C ? C[3 * i + 2] : 1;
    const c = this.baseCol;
    for (let v = 0; v < this.nv; v++) {
      const o = 3 * (i * this.nv + v);
      this.col[o] = c[3 * v] * r;
      this.col[o + 1] = c[3 * v + 1] * g;
      this.col[o + 2] = c[3 * v + 2] * b;
    }
  }
}
