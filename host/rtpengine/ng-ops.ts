/** The NG commands Kamailio's rtpengine module sends, by our name → the "command" string. */
export const NG_COMMANDS = {
  offer: 'offer',
  answer: 'answer',
  delete: 'delete',
  query: 'query',
  ping: 'ping',
  start_recording: 'start recording',
  stop_recording: 'stop recording',
  block_dtmf: 'block DTMF',
  unblock_dtmf: 'unblock DTMF',
  block_media: 'block media',
  unblock_media: 'unblock media',
  silence_media: 'silence media',
  unsilence_media: 'unsilence media',
  start_forwarding: 'start forwarding',
  stop_forwarding: 'stop forwarding',
  play_media: 'play media',
  stop_media: 'stop media',
  play_dtmf: 'play DTMF',
} as const;

export type NgOp = keyof typeof NG_COMMANDS;

/** Commands about one participant: the From-tag is sent only when `directional` (or from-tag=) says so. */
export const PARTICIPANT_OPS: ReadonlySet<NgOp> = new Set<NgOp>([
  'block_dtmf', 'unblock_dtmf', 'block_media', 'unblock_media', 'silence_media', 'unsilence_media', 'start_forwarding', 'stop_forwarding',
]);
