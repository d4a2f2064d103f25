// Placeholder until the view lands.
import type { View } from '../view.js';

export const errorView: View = {
  id: 'error',
  title: 'Layer error',
  mount: async (el) => {
    el.textContent = 'Layer error: not built yet';
  },
};
