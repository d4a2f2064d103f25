// The dataflow view's body for a given Schedule (and optional per-layer Report): toolbar (play, step,
// step slider, round, auto-rotate), the 3D stage, the legend and the pick panel. The view
// (views/dataflow.ts) fetches the data and calls this; tests and the benchmark call it directly.
//
// For tests, `el` carries data-ready="true" once the first frame is drawn, data-arrays (array instances
// of the shown round) and data-step (the current step's index in schedule.steps).
import type { Report } from '../../../compiler/contracts/report.js';
import type { Schedule } from '../../../compiler/lower/schedule.js';
import { h } from '../view.js';
import { FlowParticles, MAX_FLOWS, Playback } from './animate.js';
import { arrayDetails } from './details.js';
import { type DataflowLayout, layerPalette, layoutSchedule, roundsOf } from './layout.js';
import { legendList, pickContent } from './panel.js';
import { onCanvasClick } from './pick.js';
import { DataflowScene, type SceneOptions } from './scene.js';
import { DIGITAL, StepPlan } from './steps.js';

export interface DataflowOptions extends SceneOptions {
  readonly report?: Report;
  /** Time per step while playing. */
  readonly stepMs?: number;
}

export interface DataflowHandle {
  readonly scene: DataflowScene;
  readonly plan: StepPlan;
  play(on: boolean): void;
  /** Client position of a global array's top face in the shown round (undefined: not in it). */
  projectArray(array: number): { x: number; y: number } | undefined;
  dispose(): void;
}

export function mountDataflow(el: HTMLElement, schedule: Schedule, opts: DataflowOptions = {}): DataflowHandle {
  const plan = new StepPlan(schedule);
  const palette = layerPalette(schedule);
  const rounds = roundsOf(schedule);
  const layouts = new Map<number, DataflowLayout>();
  const layoutOf = (r: number) => layouts.get(r) ?? layouts.set(r, layoutSchedule(schedule, r, palette)).get(r)!;
  const capacity = Math.max(1, ...rounds.map((r) => new Set(schedule.blocks.filter((b) => b.round === r).map((b) => b.array)).size));
  const n = plan.steps.length;

  const prev = h('button', { class: 'df-prev', title: 'previous step' }, '◀');
  const playBtn = h('button', { class: 'df-play primary' }, 'Play');
  const next = h('button', { class: 'df-next', title: 'next step' }, '▶');
  const slider = h('input', { class: 'df-slider', type: 'range', min: 0, max: Math.max(0, n - 1), step: 1, value: 0, 'aria-label': 'step' });
  const stepLabel = h('span', { class: 'df-step-label' });
  const roundSelect = h('select', { class: 'df-round', 'aria-label': 'programming round' }, ...rounds.map((r) => h('option', { value: r }, `round ${r}`)));
  roundSelect.disabled = rounds.length < 2;
  const rotate = h('input', { type: 'checkbox', class: 'df-rotate' });
  const stage = h('div', { class: 'df-stage' });
  const legendBox = h('div', {});
  const pickBox = h('div', { class: 'df-pick' }, h('p', { class: 'muted' }, 'Click an array for its weight blocks.'));
  const s = schedule.spec;
  const root = h(
    'div',
    { class: 'df-view' },
    h(
      'p',
      { class: 'muted' },
      `${schedule.model.name} on ${s.name}: ${schedule.arraysUsed} of ${schedule.arraysAvailable} arrays (${s.architecture.tiles} tiles × ${s.architecture.arraysPerTile}, ${s.crossbar.rows}×${s.crossbar.cols} cells), ${schedule.rounds} programming round${schedule.rounds === 1 ? '' : 's'}, ${n} steps`,
    ),
    h('div', { class: 'df-toolbar' }, prev, playBtn, next, slider, stepLabel, h('label', {}, 'Round', roundSelect), h('label', {}, rotate, 'Rotate')),
    h('div', { class: 'df-body' }, stage, h('div', { class: 'df-side' }, h('h3', {}, 'Layers'), legendBox, pickBox)),
  );
  el.append(root);

  const scene = new DataflowScene(stage, capacity, opts);
  const particles = new FlowParticles();
  const playback = new Playback(opts.stepMs ?? 700);
  let layout = layoutOf(rounds[0] ?? 0);
  let step = 0;

  const endPoint = (end: number, out: Float32Array, at: number) => {
    const i = end === DIGITAL ? undefined : layout.instanceOf.get(end);
    if (i === undefined) {
      out[at] = layout.digital.x;
      out[at + 1] = 0.4;
      out[at + 2] = layout.digital.z;
    } else {
      const a = layout.arrays[i];
      out[at] = a.x;
      out[at + 1] = layout.plateHeight + a.height;
      out[at + 2] = a.z;
    }
  };

  const showRound = (r: number) => {
    layout = layoutOf(r);
    scene.setLayout(layout);
    legendBox.replaceChildren(legendList(layout.legend));
    pickBox.replaceChildren(h('p', { class: 'muted' }, 'Click an array for its weight blocks.'));
    roundSelect.value = String(r);
    el.dataset.arrays = String(layout.arrays.length);
  };

  const setStep = (i: number) => {
    step = Math.max(0, Math.min(n - 1, i));
    const info = plan.steps[step];
    if (!info) return;
    if (info.round !== layout.round) showRound(info.round);
    const lit: number[] = [];
    for (const a of info.arrays) {
      const k = layout.instanceOf.get(a);
      if (k !== undefined) lit.push(k);
    }
    scene.setLit(lit, info.digital);
    if (playback.playing) particles.set(plan.flows(step, MAX_FLOWS), endPoint);
    el.dataset.step = String(step);
    slider.value = String(step);
    stepLabel.textContent = `${step + 1}/${n} ${info.id} (${info.kind}${info.kind === 'program' ? `, ${info.arrays.length} arrays` : ''})`;
  };

  const play = (on: boolean) => {
    playback.playing = on;
    playback.restart();
    playBtn.textContent = on ? 'Pause' : 'Play';
    if (on) particles.set(plan.flows(step, MAX_FLOWS), endPoint);
    else scene.particlesChanged(0);
    scene.invalidate();
  };

  scene.frameHook = (now) => {
    if (!playback.playing) return false;
    if (playback.tick(now)) setStep((step + 1) % n);
    scene.particlesChanged(particles.write(playback.phase, scene.particlePositions));
    return true;
  };
  scene.onFirstFrame = () => {
    el.dataset.ready = 'true';
  };

  prev.addEventListener('click', () => {
    setStep(step - 1);
    playback.restart();
  });
  next.addEventListener('click', () => {
    setStep(step + 1);
    playback.restart();
  });
  playBtn.addEventListener('click', () => play(!playback.playing));
  slider.addEventListener('input', () => {
    setStep(Number(slider.value));
    playback.restart();
  });
  roundSelect.addEventListener('change', () => setStep(plan.firstStepOf(Number(roundSelect.value))));
  rotate.addEventListener('change', () => scene.setAutoRotate(rotate.checked));
  const offClick = onCanvasClick(scene.canvas, (x, y) => {
    const i = scene.pick(x, y);
    scene.select(i);
    pickBox.replaceChildren(...(i < 0 ? [h('p', { class: 'muted' }, 'No array there.')] : pickContent(arrayDetails(schedule, layout.arrays[i], opts.report))));
  });

  showRound(layout.round);
  setStep(0);

  return {
    scene,
    plan,
    play,
    projectArray: (array) => {
      const i = layout.instanceOf.get(array);
      return i === undefined ? undefined : scene.project(i);
    },
    dispose: () => {
      offClick();
      scene.dispose();
      root.remove();
      delete el.dataset.ready;
      delete el.dataset.arrays;
      delete el.dataset.step;
    },
  };
}
