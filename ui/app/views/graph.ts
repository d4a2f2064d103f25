// Placeholder until the view lands.
import type { View } from '../view.js';

export const graphView: View = {
  id: 'graph',
  title: 'Model graph',
  mount: async (el) => {
    el.textContent = 'Model graph: not built yet';
  },
};
