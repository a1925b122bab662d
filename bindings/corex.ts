import { defineModule, fn } from '../host/kemi/types.js';
import { ruriOf } from './msg-fields.js';

/** KSR.corex: the message tests of Kamailio's corex module that need nothing but the message. */
export default defineModule({
  name: 'corex',
  doc: 'Message tests from Kamailio corex: R-URI user, User-Agent.',
  functions: {
    has_ruri_user: fn([], 'int', (_s, ctx) => {
      const u = ruriOf(ctx);
      return u !== null && u.user !== '' ? 1 : -1;
    }, 'Positive when the current Request-URI has a user part, negative otherwise (also for a reply).'),
    has_user_agent: fn([], 'int', (_s, ctx) => {
      const ua = ctx.msg?.getHeader('user-agent');
      return ua !== undefined && ua.trim() !== '' ? 1 : -1;
    }, 'Positive when the message has a non-empty User-Agent header, negative otherwise.'),
  },
});
