/**
 * The one place in src/ that knows the providers: config `type:` → factory. Everything else sees
 * only the Provider contract.
 */
import type { Logger } from 'pino';
import type { FloatipConfig, InstanceSpec } from '../config/model.js';
import type { Provider, ProviderContext, ProviderFactory } from './provider.js';

// Loaded on first use: the AWS SDK alone costs tens of MiB of RSS on a node that only does L2.
const factories: Record<string, () => Promise<ProviderFactory>> = {
  aws: async () => (await import('../../providers/aws/index.js')).createAwsProvider,
  garp: async () => (await import('../../providers/garp/index.js')).createGarpProvider,
  script: async () => (await import('../../providers/script/index.js')).createScriptProvider,
};

export function knownProviderTypes(): string[] {
  return Object.keys(factories).sort();
}

/** Build an instance's providers in configured order; unknown types fail with the list of known ones. */
export async function buildProviders(
  spec: InstanceSpec,
  config: FloatipConfig,
  log: Logger,
): Promise<Provider[]> {
  const g = config.global;
  // keepalived runs notify scripts after the address work: an implicit script provider goes
  // last, and only when there is something for it to run or write.
  const hasNotify = Object.values(spec.notify).some((c) => c !== undefined) || g.notifyFifo !== undefined;
  const entries =
    hasNotify && !spec.providers.some((p) => p.type === 'script')
      ? [...spec.providers, { type: 'script', options: {} }]
      : spec.providers;
  const providers: Provider[] = [];
  for (const p of entries) {
    const load = factories[p.type];
    if (!load) {
      const where = p.pos ? `${p.pos.file}:${p.pos.line}:${p.pos.col}: ` : '';
      throw new Error(
        `${where}instance ${spec.name}: unknown provider type '${p.type}'; known types: ${knownProviderTypes().join(', ')}`,
      );
    }
    const ctx: ProviderContext = {
      instance: spec.name,
      interface: spec.interface,
      family: spec.family,
      virtualIps: spec.virtualIps,
      options: p.options,
      garp: {
        masterDelayMs: spec.garpMasterDelayMs ?? g.garpMasterDelayMs,
        masterRepeat: spec.garpMasterRepeat ?? g.garpMasterRepeat,
        masterRefreshMs: spec.garpMasterRefreshMs ?? g.garpMasterRefreshMs,
        masterRefreshRepeat: g.garpMasterRefreshRepeat,
      },
      log: log.child({ instance: spec.name, provider: p.type }),
      config,
      spec,
    };
    providers.push((await load())(ctx));
  }
  return providers;
}
