import { defineModule, fn } from '../host/kemi/types.js';

/** KSR.x: control of the running callback (Kamailio's kemi core "x" submodule). */
export default defineModule({
  name: 'x',
  doc: 'Control of the running callback.',
  functions: {
    exit: { ...fn([], 'none', (_s, ctx) => ctx.stopScript('exit'), 'Stop the running callback now; the message is not dropped.'), stops: 'exit' },
    drop: { ...fn([], 'none', (_s, ctx) => ctx.stopScript('drop'), 'Stop the running callback and drop the message: no reply, no relay.'), stops: 'drop' },
    probe: fn([], 'none', () => undefined, 'Does nothing; proves the KSR bridge works.'),
  },
});
