/**
 * The one place in src/ that knows the providers: config `type:` → factory. Everything else sees
 * only the Provider contract.
 */
import type { Logger } from 'pino';
import { createAwsProvider } from '../../providers/aws/index.js';
import { createGarpProvider } from '../../providers/garp/index.js';
import { createScriptProvider } from '../../providers/script/index.js';
import type { FloatipConfig, InstanceSpec, ProviderSpec } from '../config/model.js';
import type { Provider, ProviderContext, ProviderFactory } from './provider.js';

const factories: Record<string, ProviderFactory> = {
  aws: createAwsProvider,
  garp: createGarpProvider,
  script: createScriptProvider,
};

export function knownProviderTypes(): string[] {
  return Object.keys(factories).sort();
}

/** Build an instance's providers in configured order; unknown types fail with the list of known ones. */
export function buildProviders(spec: InstanceSpec, config: FloatipConfig, log: Logger): Provider[] {
  const g = config.global;
  // keepalived runs notify scripts after the address work: an implicit script provider goes
  // last, and only when there is something for it to run or write.
  const hasNotify = Object.values(spec.notify).some((c) => c !== undefined) || g.notifyFifo !== undefined;
  const entries =
    hasNotify && !spec.providers.some((p) => p.type === 'script')
      ? [...spec.providers, { type: 'script', options: {} }]
      : spec.providers;
  return entries.map((p: ProviderSpec) => {
    const factory = factories[p.type];
    if (!factory) {
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
    return factory(ctx);
  });
}
