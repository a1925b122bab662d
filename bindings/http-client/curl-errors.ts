/**
 * cURL's error codes as KSR.http_client returns them (Kamailio returns curl's code, 1-99, when
 * no HTTP answer came) and their texts for `$curlerror(N)`: libcurl 7.88's curl_easy_strerror(),
 * what Kamailio 5.6 on Debian 12 prints. A failure of the undici client maps to the code curl
 * gives for the same failure.
 */
import type { QueryResult } from '../../host/http-client/client.js';

export const CURLE_UNSUPPORTED_PROTOCOL = 1;
export const CURLE_URL_MALFORMAT = 3;
export const CURLE_COULDNT_RESOLVE_HOST = 6;
export const CURLE_COULDNT_CONNECT = 7;
export const CURLE_OPERATION_TIMEDOUT = 28;
export const CURLE_BAD_FUNCTION_ARGUMENT = 43;
export const CURLE_TOO_MANY_REDIRECTS = 47;
export const CURLE_GOT_NOTHING = 52;
export const CURLE_SEND_ERROR = 55;
export const CURLE_RECV_ERROR = 56;
export const CURLE_SSL_CONNECT_ERROR = 35;
export const CURLE_SSL_CERTPROBLEM = 58;
export const CURLE_PEER_FAILED_VERIFICATION = 60;
export const CURLE_SSL_CACERT_BADFILE = 77;

const TEXTS: ReadonlyMap<number, string> = new Map<number, string>([
  [0, 'No error'],
  [1, 'Unsupported protocol'],
  [2, 'Failed initialization'],
  [3, 'URL using bad/illegal format or missing URL'],
  [4, 'A requested feature, protocol or option was not found built-in in this libcurl due to a build-time decision.'],
  [5, "Couldn't resolve proxy name"],
  [6, "Couldn't resolve host name"],
  [7, "Couldn't connect to server"],
  [8, 'Weird server reply'],
  [9, 'Access denied to remote resource'],
  [10, 'FTP: The server failed to connect to data port'],
  [11, 'FTP: unknown PASS reply'],
  [12, 'FTP: Accepting server connect has timed out'],
  [13, 'FTP: unknown PASV reply'],
  [14, 'FTP: unknown 227 response format'],
  [15, "FTP: can't figure out the host in the PASV response"],
  [16, 'Error in the HTTP2 framing layer'],
  [17, "FTP: couldn't set file type"],
  [18, 'Transferred a partial file'],
  [19, "FTP: couldn't retrieve (RETR failed) the specified file"],
  [21, 'Quote command returned error'],
  [22, 'HTTP response code said error'],
  [23, 'Failed writing received data to disk/application'],
  [25, 'Upload failed (at start/before it took off)'],
  [26, 'Failed to open/read local data from file/application'],
  [27, 'Out of memory'],
  [28, 'Timeout was reached'],
  [30, 'FTP: command PORT failed'],
  [31, 'FTP: command REST failed'],
  [33, 'Requested range was not delivered by the server'],
  [34, 'Internal problem setting up the POST'],
  [35, 'SSL connect error'],
  [36, "Couldn't resume download"],
  [37, "Couldn't read a file:// file"],
  [38, 'LDAP: cannot bind'],
  [39, 'LDAP: search failed'],
  [41, 'A required function in the library was not found'],
  [42, 'Operation was aborted by an application callback'],
  [43, 'A libcurl function was given a bad argument'],
  [45, 'Failed binding local connection end'],
  [47, 'Number of redirects hit maximum amount'],
  [48, 'An unknown option was passed in to libcurl'],
  [49, 'Malformed option provided in a setopt'],
  [52, 'Server returned nothing (no headers, no data)'],
  [53, 'SSL crypto engine not found'],
  [54, 'Can not set SSL crypto engine as default'],
  [55, 'Failed sending data to the peer'],
  [56, 'Failure when receiving data from the peer'],
  [58, 'Problem with the local SSL certificate'],
  [59, "Couldn't use specified SSL cipher"],
  [60, 'SSL peer certificate or SSH remote key was not OK'],
  [61, 'Unrecognized or bad HTTP Content or Transfer-Encoding'],
  [63, 'Maximum file size exceeded'],
  [64, 'Requested SSL level failed'],
  [65, 'Send failed since rewinding of the data stream failed'],
  [66, 'Failed to initialise SSL crypto engine'],
  [67, 'Login denied'],
  [68, 'TFTP: File Not Found'],
  [69, 'TFTP: Access Violation'],
  [70, 'Disk full or allocation exceeded'],
  [71, 'TFTP: Illegal operation'],
  [72, 'TFTP: Unknown transfer ID'],
  [73, 'Remote file already exists'],
  [74, 'TFTP: No such user'],
  [77, 'Problem with the SSL CA cert (path? access rights?)'],
  [78, 'Remote file not found'],
  [79, 'Error in the SSH layer'],
  [80, 'Failed to shut down the SSL connection'],
  [81, 'Socket not ready for send/recv'],
  [82, 'Failed to load CRL file (path? access rights?, format?)'],
  [83, 'Issuer check against peer certificate failed'],
  [84, 'FTP: The server did not accept the PRET command.'],
  [85, 'RTSP CSeq mismatch or invalid CSeq'],
  [86, 'RTSP session error'],
  [87, 'Unable to parse FTP file list'],
  [88, 'Chunk callback failed'],
  [89, 'The max connection limit is reached'],
  [90, 'SSL public key does not match pinned public key'],
  [91, 'SSL server certificate status verification FAILED'],
  [92, 'Stream error in the HTTP/2 framing layer'],
  [93, 'API function called from within callback'],
  [94, 'An authentication function returned an error'],
  [95, 'HTTP/3 error'],
  [96, 'QUIC connection error'],
  [97, 'proxy handshake error'],
  [98, 'SSL Client Certificate required'],
  [99, 'Unrecoverable error in select/poll'],
]);

/** `$curlerror(N)`: Kamailio's wording for codes that are no curl code. */
export function curlErrorText(code: number): string {
  // Kamailio tests > 99 last, so a code past 999 reads "HTTP result code" too
  if (code > 99) return 'HTTP result code';
  if (code < 0) return 'Bad CURL error code';
  return TEXTS.get(code) ?? 'Unknown error';
}

/** The curl code of a query that got no HTTP answer, from how the undici client failed. */
export function curlCodeOf(r: QueryResult): number {
  if (r.timedOut) return CURLE_OPERATION_TIMEDOUT;
  const e = r.err ?? '';
  if (e.startsWith('connection refused')) return CURLE_COULDNT_CONNECT;
  if (e.startsWith('connect timeout')) return CURLE_OPERATION_TIMEDOUT;
  if (e.startsWith('host name not resolved')) return CURLE_COULDNT_RESOLVE_HOST;
  if (e.startsWith('cannot set up the connection')) return CURLE_SSL_CERTPROBLEM;
  if (e.startsWith('TLS failure')) return /certificate|CERT/.test(e) ? CURLE_PEER_FAILED_VERIFICATION : CURLE_SSL_CONNECT_ERROR;
  if (e.startsWith('connection closed before') || e.startsWith('connection reset')) return r.res === null ? CURLE_GOT_NOTHING : CURLE_RECV_ERROR;
  if (/EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL/.test(e)) return CURLE_COULDNT_CONNECT;
  if (/invalid|InvalidArgument/i.test(e)) return CURLE_BAD_FUNCTION_ARGUMENT;
  return CURLE_RECV_ERROR;
}
