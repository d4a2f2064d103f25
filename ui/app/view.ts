// What every view is given and what it provides. Views are modules under ui/app/views; main.ts routes.
import type { ModelRef, TandemBridge } from '../api/types.js';

export interface AppState {
  /** The model the views show (project picks it; compress/quantize jobs replace it with their output). */
  model: ModelRef;
  /** The last finished jobs by kind, so a view can show the latest result (e.g. 'simulate' -> job id). */
  readonly lastJob: Partial<Record<string, string>>;
}

export interface ViewContext {
  readonly api: TandemBridge;
  readonly state: AppState;
  navigate(view: string): void;
  status(text: string): void;
}

export interface View {
  readonly id: string;
  readonly title: string;
  /** Draws into `el` (emptied before). Returns a cleanup, called when another view replaces it. */
  mount(el: HTMLElement, ctx: ViewContext): Promise<(() => void) | void>;
}

/** Small DOM helper: an element with attributes and children (text or nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string | number | boolean | ((e: Event) => void)>> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (typeof v === 'boolean') {
      if (v) el.setAttribute(k, '');
    } else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
