// Placeholder until the view lands.
import type { View } from '../view.js';

export const dataflowView: View = {
  id: 'dataflow',
  title: '3D dataflow',
  mount: async (el) => {
    el.textContent = '3D dataflow: not built yet';
  },
};
