// Placeholder until the view lands.
import type { View } from '../view.js';

export const compressView: View = {
  id: 'compress',
  title: 'Compress',
  mount: async (el) => {
    el.textContent = 'Compress: not built yet';
  },
};
