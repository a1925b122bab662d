/**
 * An async JS callback waiting in place (host/waits.ts): what its engine needs to continue it.
 * A class, not closures: 50,000 may wait at once, and every byte of each counts.
 */
import type { CallResult } from '../engine.js';
import type { KemiType } from '../../kemi/types.js';
import type { Suspension } from '../../waits.js';
import type { Frame } from './frame.js';
import type { Instance } from './instance.js';

/** The engine side (js-engine.ts). */
export interface Continuer {
  continueCallback(vm: Instance, prev: Frame, index: number, returns: KemiType, value: unknown, spent: number): CallResult;
  forget(vm: Instance, id: number): void;
}

export class JsSuspension implements Suspension {
  constructor(
    private readonly engine: Continuer,
    private readonly vm: Instance,
    private readonly frame: Frame,
    private readonly index: number,
    private readonly returns: KemiType,
    /** CPU time the callback used before it waited */
    private readonly spent: number,
  ) {}

  resume(value: unknown): CallResult {
    return this.engine.continueCallback(this.vm, this.frame, this.index, this.returns, value, this.spent);
  }

  abandon(): void {
    this.engine.forget(this.vm, this.frame.id);
  }
}
