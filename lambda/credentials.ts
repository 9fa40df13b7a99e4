/**
 * The AWS SDK clients' credentials, in the bundle. Lambda gives a function its
 * role's credentials in the environment, so the bundle keeps only that source
 * of the SDK's default chain (which also reads files, SSO, web identity and
 * instance metadata, a third of the bundle): `scripts/bundle-handler.mjs`
 * puts this module in place of `@aws-sdk/credential-provider-node`. Tests of
 * the source use the SDK's own chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
