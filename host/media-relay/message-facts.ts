/** What a media relay command needs to know of the SIP message it is about (rtpengine NG, rtpproxy). */
export interface MessageFacts {
  readonly isRequest: boolean;
  readonly callId: string;
  readonly fromTag: string;
  readonly toTag: string;
  /** the source address of the message (received-from; the media address rtpproxy sends without flag r) */
  readonly srcIp: string;
  /** the branch parameter of the message's first or second Via ('' when there is none) */
  viaBranch(n: 1 | 2): string;
  /** extra_id_pv's value (via-branch=extra); null when the parameter is not set */
  extraId(): string | null;
}
