/**
 * `kemihost ctl`: kamctl's database commands, with a stable interface for scripts and tests.
 *
 *   kemihost ctl db init | db check
 *   kemihost ctl add <user@domain> <password>      rm <user@domain>      passwd <user@domain> <password>
 *   kemihost ctl address add <grp> <ip> [mask] [port] [tag]   address rm <grp> <ip>   address list [--json]
 *   kemihost ctl ul show [aor] [--json]   ul rm <aor>   (the running server, through its control RPC)
 *
 * address add and rm, and add, passwd and rm on MySQL/PostgreSQL, then reload a running server's
 * table through its control RPC (permissions.addressReload, auth_db.reload; reload.ts): the -c
 * config's rpc.listen, or --rpc-address.
 *
 * Every command takes -c <config> (the database is the config's db_url, see target.ts) or
 * --db-url <url>, before or after the command words. Exit codes: 0 done; 1 it could not be
 * done (user exists, no such user, database unreachable, wrong table version) with one line on
 * stderr; 2 usage (unknown command, missing or malformed argument).
 */
import { Command, type CommanderError } from 'commander';
import { addAddress, listAddresses, maskProblem, parseAddress, parseGroup, parseMask, parsePort, parseTag, removeAddress } from './address.js';
import { dbCheck, dbInit } from './db-init.js';
import { addSubscriber, changePassword, parseAor, parsePassword, removeSubscriber, type Aor } from './subscriber.js';
import type { CtlFlags } from './target.js';
import { ulRm, ulShow, type UlFlags } from './ul.js';

export const CTL_USAGE_EXIT = 2;

/** commander's own errors under `ctl` (usage, help) end the process here, with 2 for usage */
function usageExit(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? 0 : CTL_USAGE_EXIT);
}

export function registerCtl(program: Command): void {
  const ctl = program
    .command('ctl')
    .description('administer like kamctl: db init, add/rm/passwd subscribers, address add/rm/list, ul show/rm')
    .option('-c, --config <file>', 'the config file whose db_url (or modules.<name>.db_url) names the database')
    .option('--db-url <url>', 'use this database instead (sqlite:///path.db, mysql://user:pass@host/db, postgres://…)')
    .option('--rpc-address <host:port>', 'the running server\'s control RPC: address add/rm and add/passwd/rm reload it, ul reads it (default: rpc.listen of the -c config)')
    .option('--token <token>', 'its RPC bearer token (default: $KEMIHOST_RPC_TOKEN, else rpc.token of the -c config)')
    .option('--no-reload', 'address add/rm, add/passwd/rm: do not ask a running server to reload the table')
    .addHelpText('after', '\nExit codes: 0 done, 1 could not be done (one line on stderr), 2 usage error.')
    .exitOverride(usageExit);
  const flags = (): CtlFlags => ctl.opts<CtlFlags>();

  const db = ctl.command('db').description('the tables: create them (init) or check their versions (check)');
  db.command('init')
    .description('create the Kamailio 5.6 tables every module needs (and fill version); idempotent')
    .action(() => dbInit(flags()));
  db.command('check')
    .description('check that every table exists with the table_version kemihost expects')
    .action(() => dbCheck(flags()));

  ctl.command('add')
    .description('add a subscriber (password, ha1 and ha1b as kamctl computes them, realm = domain)')
    .argument('<user@domain>', 'the account', parseAor)
    .argument('<password>', 'its password', parsePassword)
    .action((aor: Aor, password: string) => addSubscriber(flags(), aor, password));
  ctl.command('rm')
    .description('remove a subscriber')
    .argument('<user@domain>', 'the account', parseAor)
    .action((aor: Aor) => removeSubscriber(flags(), aor));
  ctl.command('passwd')
    .description('change a subscriber\'s password (and ha1, ha1b)')
    .argument('<user@domain>', 'the account', parseAor)
    .argument('<password>', 'the new password', parsePassword)
    .action((aor: Aor, password: string) => changePassword(flags(), aor, password));

  const address = ctl.command('address').description('the permissions module\'s address table (allow_address groups)');
  address
    .command('add')
    .description('add an address to a group')
    .argument('<grp>', 'group number', parseGroup)
    .argument('<ip>', 'IPv4/IPv6 address or DNS name', parseAddress)
    .argument('[mask]', 'prefix length (default 32, IPv6 128)', parseMask)
    .argument('[port]', 'port, 0 = any (default 0)', parsePort)
    .argument('[tag]', 'tag returned in peer_tag_avp', parseTag)
    .action(async (grp: number, ip: string, mask: number | undefined, port: number | undefined, tag: string | undefined, _o: unknown, cmd: Command) => {
      const problem = maskProblem(ip, mask);
      if (problem !== null) cmd.error(`error: ${problem}`, { exitCode: CTL_USAGE_EXIT, code: 'kemihost.usage' });
      await addAddress(flags(), grp, ip, mask, port, tag);
    });
  address
    .command('rm')
    .description('remove the rows of an address in a group')
    .argument('<grp>', 'group number', parseGroup)
    .argument('<ip>', 'the address as stored', parseAddress)
    .action((grp: number, ip: string) => removeAddress(flags(), grp, ip));
  address
    .command('list')
    .alias('show')
    .description('print the table: one row per line, tab-separated: id grp ip_addr mask port tag')
    .option('--json', 'as a JSON array')
    .option('--group <grp>', 'only this group', parseGroup)
    .action((opts: { json?: boolean; group?: number }) => listAddresses(flags(), opts));

  const ul = ctl
    .command('ul')
    .description('the location table of the running server, through its control RPC (ul.dump, ul.lookup, ul.rm)')
    .option('--table <name>', 'the location table (usrloc domain)', 'location');
  const ulFlags = (): UlFlags => ul.opts<UlFlags>();
  ul.command('show')
    .description('one line per contact, tab-separated: table aor contact expires q received user_agent ruid')
    .argument('[aor]', 'only this AoR (user, or user@domain with use_domain)')
    .option('--json', 'the RPC result as JSON')
    .action((aor: string | undefined, opts: { json?: boolean }) => ulShow(flags(), { ...ulFlags(), ...opts }, aor));
  ul.command('rm')
    .description('remove an AoR with all its contacts')
    .argument('<aor>', 'the AoR')
    .action((aor: string) => ulRm(flags(), ulFlags(), aor));
}
