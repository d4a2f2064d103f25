// Placeholder until the view lands.
import type { View } from '../view.js';

export const codesignView: View = {
  id: 'codesign',
  title: 'Co-design',
  mount: async (el) => {
    el.textContent = 'Co-design: not built yet';
  },
};
