/**
 * A local CloudFormation lifecycle for the custom resources of a synthesized
 * stack: sends Create, Update and Delete requests as CloudFormation does, to the
 * functions of the stack, loaded unmodified from the assembly's assets, which
 * reach the local Step Functions, CloudFormation and Proton endpoints through
 * their own AWS SDK clients and PUT their response to a local response URL,
 * where it is checked as CloudFormation would take it.
 */
import { EmulatedClock, RateLimit } from '../proton';
import { dependenciesOf, DeployTarget, isCustomResource, StackAssembly } from './assembly';
import { Clock } from './clock';
import { LocalCloudFormationEndpoint } from './cloudformation-endpoint';
import { DeliveryRules, DuplicateDelivery } from './delivery-rules';
import { DeployedFunctions, Delivery, ProgressEvent, RequestResult } from './deployed-functions';
import { allowedResources, isAllowed, roleStatements, Statement } from './iam';
import { FunctionDefinition, LocalLambda, LogRecord } from './lambda';
import { LocalParameterStore } from './parameter-store-endpoint';
import { CloudFormationRequest, requestFor, RequestType, stringifyLeaves } from './requests';
import { LocalResponseEndpoint } from './response-endpoint';
import { LocalStepFunctions } from './step-functions';
import { tracesOf } from './traces';

export type { ProgressEvent, RequestResult } from './deployed-functions';
export type { DuplicateDelivery } from './delivery-rules';

export interface LocalCloudFormationOptions {
  /** The cloud assembly directory (`cdk.out`). */
  readonly assemblyDir: string;
  /**
   * The stack to deploy.
   *
   * @default - the assembly's only stack
   */
  readonly stackName?: string;
  /** Base URL of the Proton endpoint the functions reach (`AWS_ENDPOINT_URL_PROTON`). */
  readonly protonEndpoint: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /**
   * The emulated clock: waits of the state machines and of Lambda's retries pass
   * on it, and it is every function's `Date`. Share it with the Proton endpoint.
   *
   * @default - a frozen clock (only the waits move it)
   */
  readonly clock?: Clock;
  /**
   * The Proton endpoint's emulated IAM (`LocalProton` is one), kept in step with
   * the stack's policies: each handler role's access key may touch the services
   * its policies name, from the start and after every stack update or rollback.
   *
   * @default - the harness leaves the endpoint's IAM alone
   */
  readonly protonIam?: { allow(accessKeyId: string, serviceNames: readonly string[], operation?: string): void };
  /**
   * The account's Lambda concurrency: invocations of the stack's functions that
   * may run at once. Over it, a synchronous invoke (a state machine's Task) is
   * refused with `TooManyRequestsException` and an asynchronous one
   * (CloudFormation's) is queued and retried.
   *
   * @default 1000 (Lambda's default quota; new accounts may start as low as 10)
   */
  readonly lambdaConcurrency?: number;
  /**
   * Emulated milliseconds each Lambda invocation lasts on top of its own waits
   * (its calls' network time and the runtime's overhead, which the frozen clock
   * does not see), holding its concurrency slot.
   *
   * @default 0
   */
  readonly invocationOverheadMs?: number;
  /**
   * The Parameter Store's rates per operation, as token buckets on the
   * emulated clock; `false` for none.
   *
   * @default DEFAULT_PARAMETER_STORE_RATE_LIMITS (GetParameter 40 per second, as AWS publishes it; PutParameter and DeleteParameter 3, an assumption)
   */
  readonly parameterStoreRateLimits?: Readonly<Record<string, RateLimit>> | false;
  /**
   * How Lambda delivers each request's asynchronous event: once, or twice
   * (`'after-answer'`, `'concurrent'`), as its at-least-once delivery allows.
   * Rules given to `deliverTwice` come first.
   *
   * @default - once
   */
  readonly delivery?: (request: CloudFormationRequest) => Delivery | undefined;
  /** Called as the lifecycle goes, for progress output. */
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** The Proton services one access key may cancel and read. */
export interface ProtonPermission {
  readonly accessKeyId: string;
  /** The services it may both read and cancel. */
  readonly serviceNames: string[];
  /** Per operation, when its policies allow the two operations on different services. */
  readonly operations?: { readonly GetService: string[]; readonly CancelServicePipelineDeployment: string[] };
}

/** A stack operation: the requests CloudFormation sent, in order, and how it ended. */
export interface StackOperation {
  readonly stackStatus: string;
  readonly requests: readonly RequestResult[];
}

/** A custom resource as CloudFormation keeps it. */
export interface ResourceState {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly data: Readonly<Record<string, unknown>>;
  readonly status: string;
}

export class LocalCloudFormation {
  static async start(options: LocalCloudFormationOptions): Promise<LocalCloudFormation> {
    const target = { partition: options.partition ?? 'aws', region: options.region ?? 'us-east-1', account: options.account ?? '123456789012' };
    const harness = new LocalCloudFormation(options, StackAssembly.load(options.assemblyDir, target, options.stackName), target);
    const endpoint = await LocalCloudFormationEndpoint.start({
      stackId: harness.stack.stackId,
      stackName: harness.stack.stackName,
      creationTime: new Date(harness.clock.nowMs()),
      now: () => new Date(harness.clock.nowMs()),
      status: () => harness.stackStatus,
      isAllowed: (accessKeyId, action) => !harness.describeStacksDenied && harness.callerAllowed(accessKeyId, `cloudformation:${action}`, harness.stack.stackId),
    });
    harness.endpoint = endpoint;
    harness.functions = await DeployedFunctions.start(() => harness.stack, {
      target,
      clock: harness.clock,
      protonEndpoint: options.protonEndpoint,
      cloudFormationEndpoint: endpoint.endpoint,
      lambdaConcurrency: options.lambdaConcurrency,
      invocationOverheadMs: options.invocationOverheadMs,
      stepFunctionsAllowed: (accessKeyId, action, resource) => harness.callerAllowed(accessKeyId, `states:${action}`, resource),
      parameterStoreAllowed: (accessKeyId, action, resource) => harness.callerAllowed(accessKeyId, action, resource),
      parameterStoreRateLimits: options.parameterStoreRateLimits,
      onProgress: options.onProgress,
    });
    harness.applyProtonIam();
    return harness;
  }

  readonly clock: Clock;
  private endpoint!: LocalCloudFormationEndpoint;
  private functions!: DeployedFunctions;
  private status = 'REVIEW_IN_PROGRESS';
  private describeStacksDenied = false;
  private readonly resources = new Map<string, ResourceState>();
  private readonly deliveries = new DeliveryRules();

  private constructor(private readonly options: LocalCloudFormationOptions, private stack: StackAssembly, readonly target: DeployTarget) {
    this.clock = options.clock ?? new EmulatedClock(0);
  }

  /** The emulated Lambda running the stack's functions. */
  get lambda(): LocalLambda {
    return this.functions.lambda;
  }

  get stackName(): string {
    return this.stack.stackName;
  }

  get stackId(): string {
    return this.stack.stackId;
  }

  /** The stack's status, as DescribeStacks answers it. */
  get stackStatus(): string {
    return this.status;
  }

  /** Calls the handler made to the local CloudFormation endpoint. */
  get cloudFormationCalls() {
    return this.endpoint.calls;
  }

  /** The emulated Step Functions running the stack's state machines. */
  get stepFunctions(): LocalStepFunctions {
    return this.functions.stepFunctions;
  }

  /** Calls the functions made to the local Step Functions endpoint. */
  get stepFunctionsCalls() {
    return this.functions.stepFunctionsEndpoint.calls;
  }

  /** Base URL of the local Step Functions endpoint (the functions' `AWS_ENDPOINT_URL_SFN`). */
  get stepFunctionsEndpoint(): string {
    return this.functions.stepFunctionsEndpoint.endpoint;
  }

  /** The local Parameter Store (the functions' `AWS_ENDPOINT_URL_SSM`): its calls, its parameters, its faults. */
  get parameterStore(): LocalParameterStore {
    return this.functions.parameterStore;
  }

  /** The local endpoint behind the response URLs: `failPuts` makes S3 fail PUTs now and then. */
  get responses(): LocalResponseEndpoint {
    return this.functions.responses;
  }

  /**
   * Where `text` (a ResponseURL, a secret) appears in what the functions left
   * behind: execution inputs and outputs, errors and causes, StartExecution
   * calls, log records, Parameter Store call records. Empty when nowhere.
   */
  tracesOf(text: string): string[] {
    return tracesOf(text, {
      executions: this.stepFunctions.executions,
      stepFunctionsCalls: this.stepFunctionsCalls,
      logs: this.logs,
      parameterStoreCalls: this.parameterStore.calls,
      cloudFormationCalls: this.cloudFormationCalls,
    });
  }

  /**
   * Makes Lambda deliver the events of matching requests twice, e.g.
   * `deliverTwice({ requestType: 'Create', logicalId: 'Cancel', delivery: 'after-answer' })`.
   */
  deliverTwice(rule: DuplicateDelivery): void {
    this.deliveries.add(rule);
  }

  /** Requests to response URLs that were not open (answered 403). */
  get refusedResponses() {
    return this.functions.responses.refused;
  }

  /** A function of the stack, by logical id, as deployed (its environment included). */
  functionOf(logicalId: string): FunctionDefinition {
    return this.lambda.get(this.stack.arn(logicalId));
  }

  /** Every log record of every function so far. */
  get logs(): readonly LogRecord[] {
    return this.lambda.logs;
  }

  /** Logical ids of the stack's custom resources, in template order. */
  get customResourceIds(): string[] {
    return Object.entries(this.stack.template.Resources).filter(([, r]) => isCustomResource(r.Type)).map(([id]) => id);
  }

  /** The stack's template as deployed. */
  get template() {
    return this.stack.template;
  }

  /** A custom resource's state, if it exists. */
  resource(logicalId: string): ResourceState | undefined {
    return this.resources.get(logicalId);
  }

  /**
   * The handler functions (every function whose code is the code of a custom
   * resource's ServiceToken function), grouped by the access key of their
   * role, with the role's IAM statements.
   */
  handlerRoles(inPlace?: (policyLogicalId: string) => boolean): Array<{ readonly accessKeyId: string; readonly functionLogicalIds: string[]; readonly statements: readonly Statement[] }> {
    const functions = this.stack.resourcesOfType('AWS::Lambda::Function').map(([id]) => this.lambda.get(this.stack.arn(id)));
    const tokens = new Set(this.customResourceIds.map((id) => String(this.stack.resolve(this.stack.resource(id).Properties?.ServiceToken))));
    const handlerCode = new Set(functions.filter((fn) => tokens.has(fn.arn)).map((fn) => fn.codeDirectory));
    const byKey = new Map<string, { accessKeyId: string; functionLogicalIds: string[]; statements: readonly Statement[] }>();
    for (const fn of functions.filter((f) => handlerCode.has(f.codeDirectory))) {
      const accessKeyId = fn.environment.AWS_ACCESS_KEY_ID;
      const entry = byKey.get(accessKeyId) ?? { accessKeyId, functionLogicalIds: [], statements: this.statementsOf(accessKeyId, inPlace) };
      entry.functionLogicalIds.push(fn.logicalId);
      byKey.set(accessKeyId, entry);
    }
    return [...byKey.values()];
  }

  /**
   * The Proton services each handler role may cancel and read, from its
   * synthesized policies resolved for the deployment target: for
   * `LocalProton.allow(accessKeyId, serviceNames)` (and, per operation, with
   * `operations` when a role's two operations differ).
   *
   * @param options.before count only the policies that CloudFormation is bound
   * to have in place when it sends this resource's request (those it depends
   * on); by default, every policy of the template
   */
  protonPermissions(options: { readonly before?: string } = {}): ProtonPermission[] {
    const { partition, region, account } = this.target;
    const prefix = `arn:${partition}:proton:${region}:${account}:service/`;
    const inPlace = options.before === undefined ? undefined : dependenciesOf(this.stack.template, options.before);
    return this.handlerRoles(inPlace && ((id) => inPlace.has(id))).map(({ accessKeyId, statements }) => {
      const names = (action: string) => allowedResources(statements, action).filter((arn) => arn.startsWith(prefix)).map((arn) => {
        const name = arn.slice(prefix.length);
        if (/[*?/]/.test(name)) {
          throw new Error(`policy resource ${arn} is not one service: LocalProton.allow takes service names`);
        }
        return name;
      }).sort();
      const get = names('proton:GetService');
      const cancel = names('proton:CancelServicePipelineDeployment');
      if (get.join() !== cancel.join()) {
        // E.g. one function's role reads, another's cancels.
        return { accessKeyId, serviceNames: get.filter((name) => cancel.includes(name)), operations: { GetService: get, CancelServicePipelineDeployment: cancel } };
      }
      return { accessKeyId, serviceNames: get };
    });
  }

  /** The stack's outputs as CloudFormation would show them now. */
  outputs(): Record<string, string> {
    const outputs: Record<string, string> = {};
    for (const [name, output] of Object.entries(this.stack.template.Outputs ?? {})) {
      outputs[name] = String(this.resolve(output.Value));
    }
    return outputs;
  }

  /** Creates the stack: a Create per custom resource; a failure rolls the stack back (Deletes). */
  async createStack(): Promise<StackOperation> {
    if (this.resources.size > 0) {
      throw new Error(`stack ${this.stackName} already exists`);
    }
    const results: RequestResult[] = [];
    this.setStatus('CREATE_IN_PROGRESS');
    await this.inWaves(this.customResourceIds, async (id) => {
      results.push(await this.createResource(id));
    });
    if (results.every((r) => r.response.Status === 'SUCCESS')) {
      this.setStatus('CREATE_COMPLETE');
      return { stackStatus: this.status, requests: results };
    }
    this.setStatus('ROLLBACK_IN_PROGRESS');
    results.push(...await this.deleteAll());
    this.setStatus(this.resources.size === 0 ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED');
    return { stackStatus: this.status, requests: results };
  }

  /**
   * Updates the stack to the same stack of another synthesized assembly: an
   * Update per changed custom resource, a Create per new one, then the cleanup
   * (a Delete per replaced or removed one). When an Update fails, or when
   * `otherResourceFails` (another resource of the stack fails afterwards), the
   * stack rolls back: an Update with old and new properties swapped per
   * updated resource, then a Delete per resource this update created.
   */
  async updateStack(assemblyDir: string, options: { readonly otherResourceFails?: boolean } = {}): Promise<StackOperation> {
    const next = StackAssembly.load(assemblyDir, this.target, this.stackName);
    this.checkOnlyCustomResourcesChanged(next);
    const previous = this.stack;
    const before = new Map(this.resources);
    const results: RequestResult[] = [];
    this.setStatus('UPDATE_IN_PROGRESS');
    // Other resources update first (only IAM policies may differ; see checkOnlyCustomResourcesChanged).
    this.stack = next;
    this.applyProtonIam();
    const ids = this.customResourceIds;
    const changed = ids.filter((id) => !before.has(id) || JSON.stringify(this.properties(id)) !== JSON.stringify(before.get(id)!.properties));
    const attempted = new Map(changed.map((id) => [id, this.properties(id)]));
    await this.inWaves(changed, async (id) => {
      results.push(before.has(id) ? await this.updateResource(id) : await this.createResource(id));
    });

    if (!options.otherResourceFails && results.every((r) => r.response.Status === 'SUCCESS')) {
      this.setStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
      const replaced = [...before.values()].filter((old) => this.resources.get(old.logicalId)?.physicalId !== old.physicalId && ids.includes(old.logicalId));
      const removed = [...before.values()].filter((old) => !ids.includes(old.logicalId));
      for (const old of [...replaced, ...removed]) {
        results.push(await this.send(this.requestOf('Delete', old.logicalId, old.properties, { physicalId: old.physicalId }), old.logicalId));
      }
      removed.forEach((old) => this.resources.delete(old.logicalId));
      this.setStatus('UPDATE_COMPLETE');
      return { stackStatus: this.status, requests: results };
    }

    this.setStatus('UPDATE_ROLLBACK_IN_PROGRESS');
    this.stack = previous;
    this.applyProtonIam();
    const cleanup: ResourceState[] = [];
    for (const id of changed) {
      const old = before.get(id);
      const now = this.resources.get(id)!;
      if (!old) {
        cleanup.push(now);
      } else if (now.physicalId !== old.physicalId) {
        // Replaced: the old resource is still there; the new one goes in the cleanup.
        cleanup.push(now);
        this.resources.set(id, old);
      } else {
        // Old and new swapped: the properties this update tried are the "old" ones now.
        const result = await this.send(this.requestOf('Update', id, old.properties, { physicalId: now.physicalId, oldProperties: attempted.get(id) }), id);
        results.push(result);
        this.record(id, result, old.properties, result.response.Status === 'SUCCESS' ? 'UPDATE_COMPLETE' : 'UPDATE_FAILED');
      }
    }
    this.setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const resource of cleanup) {
      results.push(await this.send(this.requestOf('Delete', resource.logicalId, resource.properties, { physicalId: resource.physicalId }), resource.logicalId));
      if (!before.has(resource.logicalId)) {
        this.resources.delete(resource.logicalId);
      }
    }
    this.setStatus('UPDATE_ROLLBACK_COMPLETE');
    return { stackStatus: this.status, requests: results };
  }

  /** A Delete per custom resource left, dependents first, in waves. */
  private async deleteAll(): Promise<RequestResult[]> {
    const results: RequestResult[] = [];
    await this.inWaves([...this.resources.keys()], async (id) => {
      results.push(await this.deleteResource(id));
    }, 'delete');
    return results;
  }

  /** Deletes the stack: a Delete per custom resource. */
  async deleteStack(): Promise<StackOperation> {
    const results: RequestResult[] = [];
    this.setStatus('DELETE_IN_PROGRESS');
    results.push(...await this.deleteAll());
    this.setStatus(this.resources.size === 0 ? 'DELETE_COMPLETE' : 'DELETE_FAILED');
    return { stackStatus: this.status, requests: results };
  }

  /**
   * Sends one request for a custom resource of the template, with other
   * properties (as if the template said so), without recording its outcome.
   *
   * @param options.oldProperties an Update's old properties (as if the
   * template said so), by default those of the resource as recorded
   * @param options.stackStatus the stack's status while the request runs (what
   * `DescribeStacks` answers), e.g. `UPDATE_IN_PROGRESS`; restored afterwards
   */
  async sendRequest(requestType: RequestType, logicalId: string, properties: Record<string, unknown>, physicalId?: string,
    options: { readonly delivery?: Delivery; readonly oldProperties?: Record<string, unknown>; readonly stackStatus?: string } = {}): Promise<RequestResult> {
    const props = { ...this.properties(logicalId), ...stringifyLeaves(properties) as Record<string, unknown> };
    const oldProperties = options.oldProperties
      ? { ...this.properties(logicalId), ...stringifyLeaves(options.oldProperties) as Record<string, unknown> }
      : this.resources.get(logicalId)?.properties;
    const request = this.requestOf(requestType, logicalId, props, { physicalId, oldProperties: requestType === 'Update' ? oldProperties : undefined });
    const status = this.status;
    this.status = options.stackStatus ?? status;
    try {
      return await this.send(request, logicalId, options.delivery);
    } finally {
      this.status = status;
    }
  }

  /** Sends a request, its event delivered as `delivery` says, or as the `deliverTwice` rules and the `delivery` option say. */
  private async send(request: CloudFormationRequest, logicalId: string, delivery?: Delivery): Promise<RequestResult> {
    return this.functions.send(request, logicalId, delivery ?? this.deliveries.take(request) ?? this.options.delivery?.(request) ?? 'once');
  }

  /**
   * Refuses every later `DescribeStacks` with `AccessDenied`, whatever the
   * stack's policies say, as a service control policy or permissions boundary would.
   */
  denyDescribeStacks(): void {
    this.describeStacksDenied = true;
  }

  /** Stops the local endpoints; in-flight requests end on their own. */
  async stop(): Promise<void> {
    await Promise.all([this.endpoint.stop(), this.functions.stop()]);
  }

  private async createResource(logicalId: string): Promise<RequestResult> {
    const properties = this.properties(logicalId);
    const result = await this.send(this.requestOf('Create', logicalId, properties), logicalId);
    this.record(logicalId, result, properties, result.response.Status === 'SUCCESS' ? 'CREATE_COMPLETE' : 'CREATE_FAILED');
    return result;
  }

  private async updateResource(logicalId: string): Promise<RequestResult> {
    const current = this.resources.get(logicalId)!;
    const properties = this.properties(logicalId);
    const result = await this.send(this.requestOf('Update', logicalId, properties, { physicalId: current.physicalId, oldProperties: current.properties }), logicalId);
    if (result.response.Status === 'SUCCESS') {
      this.record(logicalId, result, properties, 'UPDATE_COMPLETE');
    } else {
      this.resources.set(logicalId, { ...current, status: 'UPDATE_FAILED' });
    }
    return result;
  }

  private async deleteResource(logicalId: string): Promise<RequestResult> {
    const current = this.resources.get(logicalId)!;
    const result = await this.send(this.requestOf('Delete', logicalId, current.properties, { physicalId: current.physicalId }), logicalId);
    if (result.response.Status === 'SUCCESS') {
      this.resources.delete(logicalId);
    } else {
      this.resources.set(logicalId, { ...current, status: 'DELETE_FAILED' });
    }
    return result;
  }

  private record(logicalId: string, result: RequestResult, properties: Record<string, unknown>, status: string): void {
    this.resources.set(logicalId, {
      logicalId,
      physicalId: result.response.PhysicalResourceId,
      properties,
      data: result.response.Data ?? {},
      status,
    });
  }

  private requestOf(requestType: RequestType, logicalId: string, properties: Readonly<Record<string, unknown>>,
    extra: { physicalId?: string; oldProperties?: Readonly<Record<string, unknown>> } = {}): CloudFormationRequest {
    return requestFor({
      requestType,
      stackId: this.stackId,
      logicalId,
      resourceType: this.stack.resource(logicalId).Type,
      properties,
      oldProperties: extra.oldProperties,
      physicalId: extra.physicalId,
      region: this.target.region,
      responseEndpoint: this.functions.responses.endpoint,
    });
  }

  private callerAllowed(accessKeyId: string | undefined, action: string, resource: string): boolean {
    return accessKeyId !== undefined && this.functions.roleOf(accessKeyId) !== undefined && isAllowed(this.statementsOf(accessKeyId), action, resource);
  }

  /** The current template's IAM statements for the role behind an access key. */
  private statementsOf(accessKeyId: string, inPlace?: (policyLogicalId: string) => boolean): Statement[] {
    const roleId = this.functions.roleOf(accessKeyId);
    return roleId ? roleStatements(this.stack, roleId, inPlace) : [];
  }

  private applyProtonIam(): void {
    for (const { accessKeyId, serviceNames, operations } of this.options.protonIam ? this.protonPermissions() : []) {
      this.options.protonIam!.allow(accessKeyId, serviceNames);
      for (const [operation, names] of Object.entries(operations ?? {})) {
        this.options.protonIam!.allow(accessKeyId, names, operation);
      }
    }
  }

  /** A custom resource's properties as CloudFormation sends them: resolved, every leaf a string. */
  private properties(logicalId: string): Record<string, unknown> {
    return stringifyLeaves(this.resolve(this.stack.resource(logicalId).Properties ?? {})) as Record<string, unknown>;
  }

  private resolve(value: unknown): unknown {
    return this.stack.resolve(value, {
      physicalId: (id) => this.resources.get(id)?.physicalId,
      attribute: (id, attribute) => {
        const value = this.resources.get(id)?.data[attribute];
        return value === undefined ? undefined : String(value);
      },
    });
  }

  /**
   * Runs `fn` over resources in CloudFormation's order, independent ones at once:
   * each after the resources it depends on, or for Deletes, before them.
   */
  private async inWaves(ids: readonly string[], fn: (id: string) => Promise<void>, order: 'create' | 'delete' = 'create'): Promise<void> {
    const template = this.stack.template;
    const dependencies = new Map(ids.map((id) => [id, template.Resources[id] ? dependenciesOf(template, id) : new Set<string>()]));
    const waitsFor = (id: string, other: string) => order === 'create' ? dependencies.get(id)!.has(other) : dependencies.get(other)!.has(id);
    const remaining = new Set(ids);
    while (remaining.size > 0) {
      const wave = [...remaining].filter((id) => ![...remaining].some((other) => other !== id && waitsFor(id, other)));
      wave.forEach((id) => remaining.delete(id));
      await Promise.all(wave.map(fn));
    }
  }

  private setStatus(status: string): void {
    this.status = status;
    this.options.onProgress?.({ kind: 'stack-status', status });
  }

  /** Updates of custom resources and IAM policies are emulated; other resources must stay as they are. */
  private checkOnlyCustomResourcesChanged(next: StackAssembly): void {
    const emulated = ['AWS::CDK::Metadata', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'];
    const others = (s: StackAssembly) => JSON.stringify(Object.entries(s.template.Resources).filter(([, r]) => !isCustomResource(r.Type) && !emulated.includes(r.Type)));
    if (others(next) !== others(this.stack)) {
      throw new Error('the new template changes resources other than custom resources and IAM policies: their updates are not emulated');
    }
  }
}
