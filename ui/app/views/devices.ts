// Placeholder until the view lands.
import type { View } from '../view.js';

export const devicesView: View = {
  id: 'devices',
  title: 'Devices',
  mount: async (el) => {
    el.textContent = 'Devices: not built yet';
  },
};
