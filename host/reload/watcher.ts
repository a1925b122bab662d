/**
 * `--watch`: reload when the script file changes. The directory is watched, not the file: an
 * editor that saves by writing a new file and renaming it over the old one replaces the inode,
 * and a watch on the old inode would never fire again. Events are debounced (an editor's save
 * is several of them, a copy may arrive in pieces); the reload itself skips a content that is
 * already running, so touching the file costs one hash.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

export class ScriptWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  start(): void {
    const name = basename(this.path);
    const w = watch(dirname(this.path), { persistent: false }, (_event, file) => {
      // some platforms do not say which file changed: then any change in the directory counts
      if (file === null || file === name) this.schedule();
    });
    w.on('error', (err) => {
      this.log.error({ err, path: this.path }, '--watch: watching the script directory failed; reload with SIGHUP or the RPC');
      this.close();
    });
    this.watcher = w;
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }
}
