/**
 * `npm run emulator`: starts the whole emulator with a demo setup and prints
 * what is needed to run a bundled task by hand against it. Ctrl+C stops it.
 */
import * as crypto from 'node:crypto';
import { startEmulator } from './index';

async function main(): Promise<void> {
  const seed = Number(process.env.EMULATOR_SEED ?? '1');
  const full = await startEmulator({ seed });
  const { emu, databricks, entra, arm } = full;

  const pat = `dapi${crypto.randomBytes(16).toString('hex')}`;
  const tenantId = '11111111-2222-3333-4444-555555555555';
  const clientId = crypto.randomUUID();
  const clientSecret = crypto.randomBytes(18).toString('base64url');
  const subscriptionId = '00000000-0000-0000-0000-000000000001';

  const dev = await databricks.addWorkspace('dev');
  dev.addPat(pat);
  dev.addEntraPrincipal(clientId, 'pipeline-sp');
  entra.addApp({ tenantId, clientId, secret: clientSecret, displayName: 'pipeline-sp' });
  arm.addSubscription(subscriptionId, { tenantId });
  arm.addResourceGroup(subscriptionId, 'rg-data-dev');
  arm.grant(subscriptionId, clientId, 'Contributor');
  arm.addFactory(subscriptionId, 'rg-data-dev', 'adf-dev');

  const lines = [
    'Emulator running. Hosts:',
    ...[...emu.hosts.values()].map((h) => `  ${h.name.padEnd(12)} ${h.url}`),
    '',
    'Environment for a task run by hand (secrets below are throwaway, made for this run):',
    `  NODE_EXTRA_CA_CERTS=${emu.caFile}`,
    `  Databricks workspace 'dev': ${dev.url}  PAT: ${pat}`,
    `  Entra authority host: ${emu.host('login').url}  tenant ${tenantId}  client ${clientId}  secret ${clientSecret}`,
    `  Resource Manager: ${emu.host('management').url}/  subscription ${subscriptionId}  resource group rg-data-dev  factory adf-dev`,
    '',
    `Control API: ${dev.url}/_emulator/journal, /_emulator/faults, /_emulator/latency, /_emulator/ratelimit, /_emulator/reset`,
  ];
  console.log(lines.join('\n'));

  const stop = () => {
    void full.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
