/** What `core.version` and `core.info` report about this build. */
import { readFileSync } from 'node:fs';

export const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** "kemihost 0.1.0 (node v20.20.0 linux/x64)", shaped like Kamailio's core.version */
export const VERSION_LINE = `kemihost ${PACKAGE_VERSION} (node ${process.version} ${process.platform}/${process.arch})`;
