// The three.js side of the dataflow view: tile plates, one InstancedMesh for every array of the shown
// round (per-instance colour; drawn merged, see baked.ts), the digital unit, activation particles, the
// picked array's outline, orbit controls. Frames are drawn on demand: one after a change, and
// continuously only while a frame hook (playback) or the controls (damping, auto-rotate) ask for more.
// Nothing is allocated per frame.
import {
  BoxGeometry,
  BufferAttribute,
  BufferGeometry,
  Color,
  EdgesGeometry,
  Float32BufferAttribute,
  InstancedMesh,
  LineBasicMaterial,
  LineSegments,
  Matrix4,
  Mesh,
  MeshBasicMaterial,
  PerspectiveCamera,
  Points,
  PointsMaterial,
  Raycaster,
  Scene,
  SRGBColorSpace,
  Vector2,
  Vector3,
  WebGLRenderer,
  type Intersection,
  type Object3D,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { MAX_FLOWS, PARTICLES_PER_FLOW } from './animate.js';
import { BakedInstances } from './baked.js';
import { type DataflowLayout, lit, type Rgb } from './layout.js';

export interface SceneOptions {
  /** Device pixels per CSS pixel (default: the screen's, at most 2). */
  readonly pixelRatio?: number;
  /** Multisampling (default: on, except on software GL). */
  readonly antialias?: boolean;
  /** Arrays narrower on screen than this many pixels are drawn as their top faces only (0: always whole). */
  readonly detailPx?: number;
  /** While animating or orbiting, lower the resolution (down to 0.35 of it) when frames come slower than 50 fps;
   * a still scene is always drawn at full resolution (default: on). */
  readonly dynamicResolution?: boolean;
}

/** Dynamic resolution: a mean frame interval above SLOW_MS over RES_WINDOW moving frames lowers the pixel
 * ratio, below FAST_MS raises it back (a mean: intervals snap to whole display frames, and one slow frame,
 * a GC or a layout, must not make the picture blurry). */
const SLOW_MS = 20.5;
const FAST_MS = 17.5;
const RES_WINDOW = 8;
const MIN_RES = 0.35;

/** Software GL (SwiftShader, llvmpipe): multisampling costs more there than it gives. */
function softwareGl(): boolean {
  const gl = document.createElement('canvas').getContext('webgl2');
  const ext = gl?.getExtension('WEBGL_debug_renderer_info');
  const name = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : '';
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|software/i.test(name);
}

const BACKGROUND = '#1b1f27';
const PLATE_COLOR = '#343c4b';
const DIGITAL_COLOR: Rgb = [0.33, 0.37, 0.45];
const PARTICLE_COLOR = '#ffd84d';
const PARTICLE_PX = 5;
/** Unlit shading baked into the box vertices (+x, −x, top, bottom, +z, −z faces): boxes read as 3D
 * without lights, which keeps the fragment work minimal for software GL. */
const FACE_SHADE = [0.72, 0.72, 1, 0.45, 0.86, 0.86];

/** The camera stays above the floor (see MAX_POLAR), so boxes need no bottom face. */
const MAX_POLAR = (80 * Math.PI) / 180;

/** A unit box standing on y = 0, its faces pre-shaded; the top face's TOP_INDICES indices first (the
 * coarse level of detail), no bottom face. */
function shadedBox(): BoxGeometry {
  const g = new BoxGeometry(1, 1, 1).translate(0, 0.5, 0);
  const colors = new Float32Array(g.attributes.position.count * 3);
  // BoxGeometry writes 4 vertices and 6 indices per face in the FACE_SHADE order: top is face 2, bottom 3.
  for (let v = 0; v < g.attributes.position.count; v++) colors.fill(FACE_SHADE[Math.floor(v / 4)], 3 * v, 3 * v + 3);
  g.setAttribute('color', new Float32BufferAttribute(colors, 3));
  const index = Array.from(g.index!.array);
  g.setIndex([...index.slice(12, 18), ...index.slice(0, 12), ...index.slice(24)]);
  g.clearGroups();
  return g;
}
const TOP_INDICES = 6;
const DETAIL_PX = 12;

export class DataflowScene {
  readonly canvas: HTMLCanvasElement;
  readonly renderer: WebGLRenderer;
  readonly camera = new PerspectiveCamera(40, 1, 0.1, 1000);
  readonly controls: OrbitControls;
  /** One instance per array of the shown round; `count` is their number. Picked by raycasting; drawn
   * through `arraysDrawn`. */
  readonly arrays: InstancedMesh;
  private readonly arraysDrawn: BakedInstances;
  readonly particles: Points;
  /** Particle positions (x, y, z per particle); write, then call particlesChanged. */
  readonly particlePositions: Float32Array;
  /** Called at the start of each frame with the rAF time; return true to get another frame. */
  frameHook?: (now: number) => boolean;
  onFirstFrame?: () => void;
  frames = 0;

  private readonly scene = new Scene();
  private readonly boxGeometry = shadedBox();
  private readonly arrayMaterial = new MeshBasicMaterial({ vertexColors: true });
  private tiles: InstancedMesh;
  private tilesDrawn: BakedInstances;
  private readonly tileMaterial = new MeshBasicMaterial({ vertexColors: true, color: PLATE_COLOR });
  private readonly digitalMaterial = new MeshBasicMaterial({ vertexColors: true });
  private readonly digital: Mesh;
  private readonly outline: LineSegments;
  private layout?: DataflowLayout;
  private lit: number[] = [];
  private readonly resize: ResizeObserver;
  private readonly raycaster = new Raycaster();
  private readonly hits: Intersection<Object3D>[] = [];
  private readonly ndc = new Vector2();
  private readonly v = new Vector3();
  private readonly m = new Matrix4();
  private readonly c = new Color();
  private readonly detailPx: number;
  private raf = 0;
  private last = 0;
  private disposed = false;
  private readonly basePixelRatio: number;
  private readonly dynamicResolution: boolean;
  /** Fraction of the base pixel ratio used while moving (1 when still). */
  motionResolution = 1;
  private windowFrames = 0;
  private windowMs = 0;

  constructor(
    private readonly parent: HTMLElement,
    capacity: number,
    opts: SceneOptions = {},
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'df-canvas';
    parent.append(this.canvas);
    this.renderer = new WebGLRenderer({ canvas: this.canvas, antialias: opts.antialias ?? !softwareGl(), powerPreference: 'high-performance' });
    this.detailPx = opts.detailPx ?? DETAIL_PX;
    this.basePixelRatio = opts.pixelRatio ?? Math.min(window.devicePixelRatio, 2);
    this.dynamicResolution = opts.dynamicResolution ?? true;
    this.renderer.setPixelRatio(this.basePixelRatio);
    this.scene.background = new Color(BACKGROUND);

    this.arrays = new InstancedMesh(this.boxGeometry, this.arrayMaterial, Math.max(1, capacity));
    this.arrays.count = 0;
    this.arrays.setColorAt(0, this.c.set(0xffffff)); // allocates instanceColor for the capacity
    this.arrays.visible = false;
    this.arraysDrawn = new BakedInstances(this.arrays, this.arrayMaterial, TOP_INDICES);
    this.tiles = new InstancedMesh(this.boxGeometry, this.tileMaterial, 1);
    this.tilesDrawn = new BakedInstances(this.tiles, this.tileMaterial, TOP_INDICES);
    this.digital = new Mesh(this.boxGeometry, this.digitalMaterial);
    this.setDigitalColor(false);

    this.particlePositions = new Float32Array(3 * MAX_FLOWS * PARTICLES_PER_FLOW);
    const pg = new BufferGeometry();
    pg.setAttribute('position', new BufferAttribute(this.particlePositions, 3));
    pg.setDrawRange(0, 0);
    this.particles = new Points(pg, new PointsMaterial({ color: PARTICLE_COLOR, size: PARTICLE_PX, sizeAttenuation: false }));
    this.particles.frustumCulled = false;

    this.outline = new LineSegments(new EdgesGeometry(this.boxGeometry), new LineBasicMaterial({ color: 0xffffff }));
    this.outline.visible = false;
    this.scene.add(this.tilesDrawn.mesh, this.arrays, this.arraysDrawn.mesh, this.digital, this.particles, this.outline);

    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.enableDamping = true;
    this.controls.maxPolarAngle = MAX_POLAR;
    this.controls.addEventListener('change', this.invalidate);

    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(parent);
    this.fit();
  }

  /** Shows a round: instance matrices and colours, plates, the digital unit; frames the camera once. */
  setLayout(layout: DataflowLayout): void {
    const first = !this.layout;
    this.layout = layout;
    const n = layout.arrays.length;
    if (n > this.arrays.instanceMatrix.count) throw new Error(`${n} arrays exceed the scene's capacity ${this.arrays.instanceMatrix.count}`);
    const y = layout.plateHeight;
    layout.arrays.forEach((a, i) => {
      this.m.makeScale(layout.arrayWidth, a.height, layout.arrayDepth).setPosition(a.x, y, a.z);
      this.arrays.setMatrixAt(i, this.m);
      this.arrays.setColorAt(i, this.c.setRGB(a.color[0], a.color[1], a.color[2], SRGBColorSpace));
    });
    this.arrays.count = n;
    this.arrays.computeBoundingSphere();
    this.arraysDrawn.update();
    this.lit = [];
    this.outline.visible = false;

    if (this.tiles.instanceMatrix.count !== layout.tiles.length) {
      this.scene.remove(this.tilesDrawn.mesh);
      this.tilesDrawn.dispose();
      this.tiles.dispose();
      this.tiles = new InstancedMesh(this.boxGeometry, this.tileMaterial, layout.tiles.length);
      this.tilesDrawn = new BakedInstances(this.tiles, this.tileMaterial, TOP_INDICES);
      this.scene.add(this.tilesDrawn.mesh);
    }
    layout.tiles.forEach((t, i) => this.tiles.setMatrixAt(i, this.m.makeScale(t.width, layout.plateHeight, t.depth).setPosition(t.x, 0, t.z)));
    this.tilesDrawn.update();
    // Plates are 0.1 thick: their sides are a pixel or two, not worth their fill on software GL.
    this.tilesDrawn.setDetail(false);
    const d = layout.digital;
    this.digital.scale.set(d.width, 0.4, d.depth);
    this.digital.position.set(d.x, 0, d.z);
    if (first) this.frameCamera(layout);
    this.invalidate();
  }

  /** Lights the given instances (and the digital unit), restoring the ones lit before. */
  setLit(instances: readonly number[], digital: boolean): void {
    const layout = this.layout;
    if (!layout) return;
    for (const i of this.lit) this.arrays.setColorAt(i, this.rgb(layout.arrays[i].color));
    for (const i of instances) this.arrays.setColorAt(i, this.rgb(lit(layout.arrays[i].color)));
    this.arraysDrawn.updateColors(this.lit);
    this.arraysDrawn.updateColors(instances);
    this.lit = [...instances];
    this.setDigitalColor(digital);
    this.invalidate();
  }

  /** Shows the first `n` particle positions. */
  particlesChanged(n: number): void {
    this.particles.geometry.setDrawRange(0, n);
    if (n > 0) this.particles.geometry.attributes.position.needsUpdate = true;
  }

  /** Outlines one instance (−1: none). */
  select(instance: number): void {
    const layout = this.layout;
    this.outline.visible = !!layout && instance >= 0;
    if (layout && instance >= 0) {
      const a = layout.arrays[instance];
      this.outline.scale.set(layout.arrayWidth * 1.08, a.height * 1.04, layout.arrayDepth * 1.08);
      this.outline.position.set(a.x, layout.plateHeight, a.z);
    }
    this.invalidate();
  }

  /** The array instance under a client (CSS pixel) position, or −1. */
  pick(clientX: number, clientY: number): number {
    const r = this.canvas.getBoundingClientRect();
    this.ndc.set(((clientX - r.left) / r.width) * 2 - 1, -((clientY - r.top) / r.height) * 2 + 1);
    this.raycaster.setFromCamera(this.ndc, this.camera);
    this.hits.length = 0;
    this.raycaster.intersectObject(this.arrays, false, this.hits);
    return this.hits[0]?.instanceId ?? -1;
  }

  /** Client position of the centre of an instance's top face. */
  project(instance: number): { x: number; y: number } {
    const layout = this.layout!;
    const a = layout.arrays[instance];
    this.v.set(a.x, layout.plateHeight + a.height, a.z).project(this.camera);
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + ((this.v.x + 1) / 2) * r.width, y: r.top + ((1 - this.v.y) / 2) * r.height };
  }

  setAutoRotate(on: boolean): void {
    this.controls.autoRotate = on;
    this.invalidate();
  }

  /** Asks for a frame (one per animation frame however often it is called). */
  readonly invalidate = (): void => {
    if (!this.raf && !this.disposed) this.raf = requestAnimationFrame(this.frame);
  };

  /** Draws now (also used by the benchmark to time renders directly). */
  render(): void {
    this.chooseDetail();
    this.renderer.render(this.scene, this.camera);
    this.frames++;
  }

  dispose(): void {
    this.disposed = true;
    cancelAnimationFrame(this.raf);
    this.resize.disconnect();
    this.controls.dispose();
    for (const o of [this.tiles, this.arrays, this.tilesDrawn, this.arraysDrawn]) o.dispose();
    for (const g of [this.boxGeometry, this.particles.geometry, this.outline.geometry]) g.dispose();
    for (const m of [this.arrayMaterial, this.tileMaterial, this.digitalMaterial, this.particles.material as PointsMaterial, this.outline.material as LineBasicMaterial]) m.dispose();
    this.renderer.dispose();
    // Browsers cap live WebGL contexts; give this one back now rather than at garbage collection.
    this.renderer.forceContextLoss();
    this.canvas.remove();
  }

  private readonly frame = (now = performance.now()): void => {
    this.raf = 0;
    if (this.disposed) return;
    const dt = this.last ? Math.min(0.1, (now - this.last) / 1000) : 1 / 60;
    this.last = now;
    let again = this.frameHook?.(now) ?? false;
    // update() moves the camera for damping and auto-rotation and reports whether it moved.
    if (this.controls.update(dt)) again = true;
    const moving = again || this.controls.autoRotate;
    if (this.dynamicResolution) this.adaptResolution(moving, dt * 1000);
    this.render();
    if (this.frames === 1) this.onFirstFrame?.();
    if (moving) this.invalidate();
    else this.last = 0;
  };

  /** Moving: step the motion resolution down after slow frames, up after fast ones (it is kept for the next
   * movement). Still: full resolution. */
  private adaptResolution(moving: boolean, intervalMs: number): void {
    if (moving) {
      this.windowFrames++;
      this.windowMs += intervalMs;
      if (this.windowFrames >= RES_WINDOW) {
        const mean = this.windowMs / this.windowFrames;
        if (mean > SLOW_MS) this.motionResolution = Math.max(MIN_RES, this.motionResolution * 0.85);
        else if (mean < FAST_MS) this.motionResolution = Math.min(1, this.motionResolution / 0.85);
        this.windowFrames = this.windowMs = 0;
      }
    }
    const ratio = this.basePixelRatio * (moving ? this.motionResolution : 1);
    if (ratio !== this.renderer.getPixelRatio()) this.renderer.setPixelRatio(ratio);
  }


  /** Whole boxes when an array spans at least detailPx pixels at the orbit target, else top faces. */
  private chooseDetail(): void {
    if (!this.layout) return;
    const dist = this.camera.position.distanceTo(this.controls.target);
    const px = (this.layout.arrayWidth * this.renderer.domElement.height) / (2 * dist * Math.tan((this.camera.fov * Math.PI) / 360));
    this.arraysDrawn.setDetail(px >= this.detailPx);
  }

  private fit(): void {
    const w = Math.max(1, this.parent.clientWidth);
    const h = Math.max(1, this.parent.clientHeight);
    this.renderer.setSize(w, h);
    this.camera.aspect = w / h;
    if (this.layout && this.frames === 0) this.frameCamera(this.layout);
    this.camera.updateProjectionMatrix();
    this.invalidate();
  }

  /** Looks at the whole floor from the front (the digital unit's side), 55° above it, as close as lets
   * the floor's corners fill 90% of the view (a few fixed-point steps: projected size ∝ 1 / distance). */
  private frameCamera(layout: DataflowLayout): void {
    const b = layout.bounds;
    const cx = (b.minX + b.maxX) / 2;
    const cz = (b.minZ + b.maxZ) / 2;
    const elev = (55 * Math.PI) / 180;
    let dist = Math.hypot(b.maxX - b.minX, b.maxZ - b.minZ);
    this.controls.target.set(cx, 0, cz);
    for (let k = 0; k < 4; k++) {
      this.camera.position.set(cx, dist * Math.sin(elev), cz + dist * Math.cos(elev));
      this.camera.near = dist / 100;
      this.camera.far = dist * 4;
      this.camera.lookAt(this.controls.target);
      this.camera.updateProjectionMatrix();
      this.camera.updateMatrixWorld();
      let extent = 0;
      for (const x of [b.minX, b.maxX]) for (const z of [b.minZ, b.maxZ]) {
        this.v.set(x, 0, z).project(this.camera);
        extent = Math.max(extent, Math.abs(this.v.x), Math.abs(this.v.y));
      }
      dist *= extent / 0.9;
    }
    this.controls.update();
  }

  private rgb(c: Rgb): Color {
    return this.c.setRGB(c[0], c[1], c[2], SRGBColorSpace);
  }

  private setDigitalColor(on: boolean): void {
    this.digitalMaterial.color.copy(this.rgb(on ? lit(DIGITAL_COLOR) : DIGITAL_COLOR));
    this.invalidate();
  }
}
