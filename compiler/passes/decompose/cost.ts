// Exact parameter and MAC counts of a layer before and after decomposition (SEEDS §1, §2), from
// its geometry alone, so rank choice can search ranks without building graphs. test/decompose.test.ts
// checks every formula against the IR's own count of the replaced nodes.
import type { DecompositionKind, LayerGeometry } from './layers.js';

export interface Cost {
  readonly params: number;
  readonly macs: number;
}

export function originalCost(g: LayerGeometry): Cost {
  return { params: g.kh * g.kw * g.S * g.T + (g.useBias ? g.T : 0), macs: g.kh * g.kw * g.S * g.T * g.Ho * g.Wo };
}

/**
 * Cost of the decomposed layer. ranks: svd [R], tucker2 [R3 (input side), R4 (output side)], cp [R].
 * - svd: S->R (carries the layer's stride and padding, so it runs at Ho×Wo), R->T + bias.
 * - tucker2: 1×1 S->R3 at H×W, k×k core R3->R4 at Ho×Wo (the layer's stride/padding/dilation), 1×1 R4->T + bias.
 * - cp: 1×1 S->R at H×W, depthwise kh×1 (vertical stride) at Ho×W, depthwise 1×kw at Ho×Wo, 1×1 R->T + bias.
 */
export function decomposedCost(g: LayerGeometry, kind: DecompositionKind, ranks: readonly number[]): Cost {
  const bias = g.useBias ? g.T : 0;
  const inPix = g.H * g.W;
  const outPix = g.Ho * g.Wo;
  switch (kind) {
    case 'svd': {
      const [r] = ranks;
      return { params: g.S * r + r * g.T + bias, macs: (g.S * r + r * g.T) * outPix };
    }
    case 'tucker2': {
      const [r3, r4] = ranks;
      const k2 = g.kh * g.kw;
      return { params: g.S * r3 + k2 * r3 * r4 + r4 * g.T + bias, macs: g.S * r3 * inPix + k2 * r3 * r4 * outPix + r4 * g.T * outPix };
    }
    case 'cp': {
      const [r] = ranks;
      return {
        params: g.S * r + g.kh * r + g.kw * r + r * g.T + bias,
        macs: g.S * r * inPix + g.kh * r * g.Ho * g.W + g.kw * r * outPix + r * g.T * outPix,
      };
    }
  }
}
