// A minimal WebAssembly binary encoder, shared by the hand-assembled kernels (the decomposition GEMM in
// compiler/passes/decompose/linalg.ts, the simulator's kernels in sim/kernels/wasm.ts), and the part of
// the WebAssembly JS API they use (the project's lib settings do not declare it).

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}

/** Unsigned LEB128. */
export function leb(n: number): number[] {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
}

/** Signed LEB128. */
export function sleb(n: number): number[] {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
}

export const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
export const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
export const str = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
