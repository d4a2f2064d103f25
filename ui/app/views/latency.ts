// Placeholder until the view lands.
import type { View } from '../view.js';

export const latencyView: View = {
  id: 'latency',
  title: 'Latency',
  mount: async (el) => {
    el.textContent = 'Latency: not built yet';
  },
};
