import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { sshEntryCommand } from '../ssh/authorized-keys';
import { KeyStore } from '../ssh/key-store';
import { openCliContext, table } from './cli-context';

/** slipway's ssh entry, next to this file in the build. */
const SSH_ENTRY = path.resolve(__dirname, '..', 'ssh', 'ssh-entry.js');
/** A public key file is a line; anything much bigger is something else. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export function registerKeyCommands(program: Command): void {
  const store = () => {
    const ctx = openCliContext();
    return { ctx, store: new KeyStore(ctx.settings.authorizedKeys, sshEntryCommand(ctx.settings.home, process.execPath, SSH_ENTRY)) };
  };
  program
    .command('keys:add <name> <public-key-file>')
    .description('let an ssh key push and fetch apps (and nothing else); its pushes are recorded as ssh:<name>')
    .addHelpText('after', '\nExamples:\n  slipway keys:add alice alice.pub\n  git remote add production ssh://root@my-vm/myapp.git   # the user slipway runs as')
    .action(async (name: string, file: string) => {
      const { ctx, store: s } = store();
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile()) throw new Error(`${file}: no such file`);
      if (stat.size > MAX_KEY_FILE_BYTES) throw new Error(`${file} is not an ssh public key (${stat.size} bytes)`);
      const key = await s.add(name, await fs.readFile(file, 'utf8'));
      ctx.print(`key "${name}" (${key.type} ${key.fingerprint}) added to ${s.file}: it may push and fetch apps over ssh, nothing else`);
    });
  program
    .command('keys:list')
    .description("list slipway's ssh keys")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { ctx, store: s } = store();
      const keys = (await s.list()).map((k) => ({ name: k.name, type: k.type, fingerprint: k.fingerprint }));
      ctx.print(
        opts.json
          ? JSON.stringify(keys, null, 2)
          : table(
              ['name', 'type', 'fingerprint'],
              keys.map((k) => [k.name, k.type, k.fingerprint]),
            ),
      );
    });
  program
    .command('keys:remove <name>')
    .description('remove an ssh key at once (its open sessions end when they end)')
    .action(async (name: string) => {
      const { ctx, store: s } = store();
      await s.remove(name);
      ctx.print(`key "${name}" removed from ${s.file}`);
    });
}
