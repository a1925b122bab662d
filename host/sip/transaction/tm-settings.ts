/**
 * What a script sets on a transaction before or after it exists (t_on_failure, t_on_reply,
 * t_on_branch, t_on_branch_failure, t_set_fr): Kamailio keeps these per message until t_relay
 * creates the transaction, so they are held apart and handed over.
 */
export class TmSettings {
  /** t_on_failure: one shot, cleared when the failure route runs (the script re-arms it) */
  failure: string | null = null;
  onReply: string | null = null;
  branch: string | null = null;
  branchFailure: string | null = null;
  /** t_set_fr overrides in ms, 0 = the module default */
  frInv = 0;
  fr = 0;
}
