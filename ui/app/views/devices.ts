// Devices: serial ports (listed where udev exists, typed otherwise: a PTY, the QEMU board), the board's INFO,
// a per-layer profile run as a job with its live log.
import { runJob } from '../job-panel.js';
import { type View, errorText, h } from '../view.js';

export const devicesView: View = {
  id: 'devices',
  title: 'Devices',
  mount: async (el, ctx) => {
    const ports = await ctx.api.ports();
    const port = h('input', { type: 'text', class: 'device-port', list: 'device-ports', placeholder: '/dev/ttyACM0', size: 28 });
    const list = h('datalist', { id: 'device-ports' }, ...ports.map((p) => h('option', { value: p.path }, p.manufacturer ?? '')));
    const info = h('div', { class: 'device-info' });
    const job = h('div', { class: 'device-job' });
    const connect = h('button', { class: 'device-connect' }, 'Connect (INFO)');
    connect.addEventListener('click', () => {
      info.replaceChildren(h('span', { class: 'muted' }, `connecting to ${port.value}…`));
      ctx.api.boardInfo({ port: port.value.trim() }).then(
        (b) => info.replaceChildren(h('table', {}, h('tbody', {}, ...Object.entries(b.info).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v))))))),
        (e: unknown) => info.replaceChildren(h('p', { class: 'error' }, errorText(e))),
      );
    });
    const target = h('select', { class: 'device-target' }, ...['qemu', 'host', 'serial'].map((t) => h('option', { value: t }, t === 'serial' ? 'the port above' : t)));
    const repeats = h('input', { type: 'number', class: 'device-repeats', value: '5', min: 1, max: 1000 });
    const profile = h('button', { class: 'primary device-profile' }, 'Profile the current model');
    profile.addEventListener('click', () => {
      profile.disabled = true;
      const t = target.value;
      runJob(ctx, { kind: 'profile', model: ctx.state.model, target: t === 'serial' ? `serial:${port.value.trim()}` : t, repeats: Number(repeats.value) }, job)
        .then((res) => {
          ctx.state.lastJob.profile = res.job.id;
          const rows = res.report?.rows ?? [];
          job.append(
            h('table', { class: 'device-profile-result' }, h('thead', {}, h('tr', {}, h('th', {}, 'layer'), h('th', { class: 'num' }, 'median'), h('th', { class: 'num' }, 'samples'))),
              h('tbody', {}, ...rows.map((r) => {
                const s = [...(r.latency?.samples ?? [])].sort((a, b) => a - b);
                const med = s.length ? s[s.length >> 1] : NaN;
                return h('tr', {}, h('td', {}, r.layer), h('td', { class: 'num' }, `${med.toPrecision(4)} ${r.latency?.unit ?? ''}`), h('td', { class: 'num' }, String(s.length)));
              }))),
          );
        })
        .catch((e: unknown) => job.append(h('p', { class: 'error' }, errorText(e))))
        .finally(() => (profile.disabled = false));
    });
    el.replaceChildren(
      h('h2', {}, 'Devices'),
      h('div', { class: 'card' }, h('h3', {}, 'Board'), h('p', { class: 'muted' }, ports.length ? `${ports.length} serial port(s) found.` : 'No serial ports listed (listing needs udev); type a port path, e.g. a board\'s /dev/ttyACM0 or a PTY.'), h('div', { class: 'row' }, h('label', {}, 'Port ', port, list), connect), info),
      h('div', { class: 'card' }, h('h3', {}, 'Per-layer latency'), h('div', { class: 'row' }, h('label', {}, 'Target ', target), h('label', {}, 'Repeats ', repeats), profile), job),
    );
  },
};
