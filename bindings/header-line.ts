/**
 * Header text from a script: Kamailio expects "Name: value\r\n". A missing CRLF would corrupt
 * the message we build, so it is added rather than trusted; text without a colon, or with a
 * blank line or a bare LF inside (which would end the header section early), is refused (null).
 * hdr's adding functions (hdr.ts, hdr-position.ts) share it.
 */
export function headerLine(text: string): string | null {
  if (text.length === 0 || !text.includes(':')) return null;
  if (text.includes('\r\n\r\n') || /(^|[^\r])\n/.test(text)) return null;
  return text.endsWith('\r\n') ? text : `${text.replace(/[\r\n]+$/, '')}\r\n`;
}
