// Placeholder until the view lands.
import type { View } from '../view.js';

export const projectView: View = {
  id: 'project',
  title: 'Project',
  mount: async (el) => {
    el.textContent = 'Project: not built yet';
  },
};
