/**
 * Emulated AWS Systems Manager Parameter Store: the parameters of one account
 * and Region, with the rules of `PutParameter`, `GetParameter` and
 * `DeleteParameter` (names, types, tiers, the value limits, overwrite, and
 * SecureString values that only a read with decryption shows).
 * The wire protocol, IAM, faults and rate limits are the endpoint's
 * (parameter-store-endpoint.ts).
 */
import { createCipheriv, randomBytes } from 'crypto';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export type ParameterTier = 'Standard' | 'Advanced' | 'Intelligent-Tiering';

/** A parameter as stored. */
export interface StoredParameter {
  readonly name: string;
  readonly type: ParameterType;
  /** The plain value (a SecureString's too: the store holds what KMS would decrypt). */
  readonly value: string;
  readonly version: number;
  readonly tier: 'Standard' | 'Advanced';
  /** Emulated time of the last change, epoch milliseconds. */
  readonly lastModifiedMs: number;
}

/** An error of the Parameter Store API, named as the service names it (`ParameterNotFound`, ...). */
export class ParameterStoreError extends Error {
  constructor(readonly name: string, message: string) {
    super(message);
  }
}

const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
const TIERS: readonly ParameterTier[] = ['Standard', 'Advanced', 'Intelligent-Tiering'];
/** Value limits in characters: 4 KB for a standard parameter, 8 KB for an advanced one. */
export const STANDARD_VALUE_LIMIT = 4096;
export const ADVANCED_VALUE_LIMIT = 8192;
/** The longest name a caller may create, counting the ARN before it (`arn:aws:ssm:<region>:<account>:parameter/`). */
const MAX_NAME_WITH_ARN = 1011;
/** Hierarchy levels a name may have. */
const MAX_LEVELS = 15;
/** The message Parameter Store gives for a name it does not accept. */
const NAME_RULES = 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of '
  + 'sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

export class ParameterStore {
  private readonly stored = new Map<string, StoredParameter>();
  /** The key SecureString values are "encrypted" with when read without decryption. */
  private readonly key = randomBytes(32);

  /** @param arnPrefix `arn:<partition>:ssm:<region>:<account>:parameter` */
  constructor(readonly arnPrefix: string) {}

  /** The parameter's ARN, as IAM matches it: `<prefix>/a/b` for `/a/b`, `<prefix>/a` for `a`. */
  arnOf(name: string): string {
    return `${this.arnPrefix}${name.startsWith('/') ? '' : '/'}${name}`;
  }

  /** The parameters stored now, by name. */
  parameters(): StoredParameter[] {
    return [...this.stored.values()];
  }

  put(input: { name: string; value?: unknown; type?: unknown; overwrite?: unknown; tier?: unknown }, nowMs: number): { version: number; tier: string } {
    const name = this.checkName(input.name);
    if (typeof input.value !== 'string') {
      throw validation('value', 'null', 'Member must not be null');
    }
    if (input.type !== undefined && !TYPES.includes(input.type as ParameterType)) {
      throw validation('type', `'${String(input.type)}'`, `Member must satisfy enum value set: [${TYPES.join(', ')}]`);
    }
    if (input.tier !== undefined && !TIERS.includes(input.tier as ParameterTier)) {
      throw validation('tier', `'${String(input.tier)}'`, `Member must satisfy enum value set: [${TIERS.join(', ')}]`);
    }
    if (input.value.length === 0) {
      throw validation('value', "''", 'Member must have length greater than or equal to 1');
    }
    const existing = this.stored.get(name);
    if (existing && input.overwrite !== true) {
      throw new ParameterStoreError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    const type = (input.type as ParameterType | undefined) ?? existing?.type;
    if (!type) {
      throw new ParameterStoreError('ValidationException', 'A parameter type is required when you create a parameter.');
    }
    const characters = [...input.value].length;
    const askedTier = (input.tier as ParameterTier | undefined) ?? 'Standard';
    // Intelligent-Tiering picks Standard unless the value needs Advanced; an advanced parameter never goes back.
    const tier = askedTier === 'Advanced' || existing?.tier === 'Advanced' || (askedTier === 'Intelligent-Tiering' && characters > STANDARD_VALUE_LIMIT) ? 'Advanced' : 'Standard';
    if (tier === 'Standard' && characters > STANDARD_VALUE_LIMIT) {
      throw new ParameterStoreError('ValidationException', `Standard tier parameters support a maximum parameter value of ${STANDARD_VALUE_LIMIT} characters. `
        + 'To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see '
        + 'https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html');
    }
    if (characters > ADVANCED_VALUE_LIMIT) {
      throw new ParameterStoreError('ValidationException', `Advanced tier parameters support a maximum parameter value of ${ADVANCED_VALUE_LIMIT} characters.`);
    }
    const version = (existing?.version ?? 0) + 1;
    this.stored.set(name, { name, type, value: input.value, version, tier, lastModifiedMs: nowMs });
    return { version, tier };
  }

  /**
   * The parameter as `GetParameter` answers it: a SecureString's value is its
   * ciphertext (base64) unless read with decryption.
   */
  get(nameInput: unknown, withDecryption: boolean): { Name: string; Type: string; Value: string; Version: number; LastModifiedDate: number; ARN: string; DataType: string } {
    const parameter = this.find(nameInput);
    if (!parameter) {
      throw new ParameterStoreError('ParameterNotFound', '');
    }
    const value = parameter.type === 'SecureString' && !withDecryption ? this.ciphertext(parameter.value) : parameter.value;
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: value,
      Version: parameter.version,
      // Timestamps are epoch seconds in the JSON protocols.
      LastModifiedDate: parameter.lastModifiedMs / 1000,
      ARN: this.arnOf(parameter.name),
      DataType: 'text',
    };
  }

  delete(nameInput: unknown): void {
    const parameter = this.find(nameInput);
    if (!parameter) {
      throw new ParameterStoreError('ParameterNotFound', `Parameter ${String(nameInput)} not found.`);
    }
    this.stored.delete(parameter.name);
  }

  private find(nameInput: unknown): StoredParameter | undefined {
    if (typeof nameInput !== 'string') {
      throw validation('name', 'null', 'Member must not be null');
    }
    // The service trims spaces at either end of a name, and refuses one with spaces within.
    if (/\s/.test(nameInput.trim())) {
      throw new ParameterStoreError('ValidationException', NAME_RULES);
    }
    return this.stored.get(nameInput.trim());
  }

  /** A name the caller may create, trimmed as the service trims it; otherwise the service's error. */
  private checkName(nameInput: unknown): string {
    if (typeof nameInput !== 'string') {
      throw validation('name', 'null', 'Member must not be null');
    }
    const name = nameInput.trim();
    if (name.length < 1 || name.length > 2048) {
      throw validation('name', `'${name}'`, `Member must have length ${name.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 2048'}`);
    }
    const segments = (name.startsWith('/') ? name.slice(1) : name).split('/');
    if (name.includes('/') && !name.startsWith('/')) {
      throw new ParameterStoreError('ValidationException', 'Parameter name must be a fully qualified name.');
    }
    if (segments.some((s) => !/^[a-zA-Z0-9_.-]+$/.test(s)) || /^(aws|ssm)/i.test(segments[0])) {
      throw new ParameterStoreError('ValidationException', NAME_RULES);
    }
    if (segments.length > MAX_LEVELS) {
      throw new ParameterStoreError('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_LEVELS} levels.`);
    }
    if (this.arnOf(name).length > MAX_NAME_WITH_ARN) {
      throw new ParameterStoreError('ValidationException', `Parameter name: the name and the ARN before it must not exceed ${MAX_NAME_WITH_ARN} characters.`);
    }
    return name;
  }

  /** What KMS would return: unreadable without the key, different each time. */
  private ciphertext(value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const encrypted = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, encrypted, cipher.getAuthTag()]).toString('base64');
  }
}

/** The service's validation message for one member. */
function validation(member: string, value: string, constraint: string): ParameterStoreError {
  return new ParameterStoreError('ValidationException', `1 validation error detected: Value ${value} at '${member}' failed to satisfy constraint: ${constraint}`);
}
