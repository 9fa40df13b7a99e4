import { createHash } from 'crypto';
import { EmulatedClock } from './clock';
import { ProtonError } from './errors';

/** The errors a cancel may get when no deployment is in progress: which one real Proton sends is undocumented. */
export type CancelRefusal = 'ValidationException' | 'ConflictException';

/** Pipeline deployment statuses the emulator models (Proton's `DeploymentStatus` less the DELETE_* ones). */
export type PipelineStatus = 'IN_PROGRESS' | 'CANCELLING' | 'CANCELLED' | 'FAILED' | 'SUCCEEDED'
  | 'DELETE_IN_PROGRESS' | 'DELETE_COMPLETE' | 'DELETE_FAILED';

/** Options of the pipeline of an emulated service. Durations are in emulated seconds. */
export interface PipelineOptions {
  /**
   * Deployment status when the service is added.
   *
   * @default 'IN_PROGRESS'
   */
  readonly status?: PipelineStatus;
  /**
   * Emulated seconds after which an IN_PROGRESS (or CANCELLING) deployment finishes by itself, or a
   * DELETE_IN_PROGRESS pipeline's deletion ends.
   *
   * This is the race Proton documents: the deployment ends at this time whether or not a cancel
   * was accepted, unless the cancellation completed first; a cancel arriving later is refused.
   *
   * @default - never: the deployment only ends through a cancellation
   */
  readonly finishesAfter?: number;
  /**
   * Status the deployment ends in when it finishes by itself.
   *
   * @default 'SUCCEEDED', or 'DELETE_COMPLETE' for a deletion
   */
  readonly finishesAs?: 'SUCCEEDED' | 'FAILED' | 'DELETE_COMPLETE' | 'DELETE_FAILED';
  /**
   * Emulated seconds from an accepted cancel (or from adding a CANCELLING pipeline) to its end.
   *
   * `Infinity` leaves the pipeline in CANCELLING forever.
   *
   * @default 120
   */
  readonly cancelTakes?: number;
  /**
   * Status a completed cancellation ends in.
   *
   * @default 'CANCELLED'
   */
  readonly cancelEndsAs?: 'CANCELLED' | 'FAILED';
  /** @default '1' */
  readonly templateMajorVersion?: string;
  /** @default '0' */
  readonly templateMinorVersion?: string;
  /**
   * Pipeline spec.
   *
   * @default - the service spec
   */
  readonly spec?: string;
  /** @default - the service's `createdAt` */
  readonly createdAt?: Date;
  /** @default - 60 emulated seconds before the service is added */
  readonly lastDeploymentAttemptedAt?: Date;
  /**
   * @default - `lastDeploymentAttemptedAt` when the status is SUCCEEDED, else 10 minutes after `createdAt`
   */
  readonly lastDeploymentSucceededAt?: Date;
  /** @default deploymentId(service, 2) */
  readonly lastAttemptedDeploymentId?: string;
  /** @default - the attempted id when SUCCEEDED, else deploymentId(service, 1) */
  readonly lastSucceededDeploymentId?: string;
  /**
   * Status message of the deployment when added.
   *
   * @default - none
   */
  readonly deploymentStatusMessage?: string;
}

/** Options of an emulated Proton service. */
export interface ServiceOptions {
  /**
   * The service pipeline, or `false` for a service without one.
   *
   * @default - a pipeline with an IN_PROGRESS deployment (see `PipelineOptions`)
   */
  readonly pipeline?: PipelineOptions | false;
  /** @default - a short YAML spec */
  readonly spec?: string;
  /** @default 'svc-template' */
  readonly templateName?: string;
  /** @default 'ACTIVE' */
  readonly status?: string;
  /** @default - none */
  readonly statusMessage?: string;
  /** @default - none */
  readonly description?: string;
  /** @default - none */
  readonly branchName?: string;
  /** @default - none */
  readonly repositoryConnectionArn?: string;
  /** @default - none */
  readonly repositoryId?: string;
  /** @default - one emulated day before the service is added */
  readonly createdAt?: Date;
  /** @default - `createdAt` */
  readonly lastModifiedAt?: Date;
}

/** Status messages set when a deployment ends; CANCELLED's is the one Proton's user guide shows. */
const CANCELLED_MESSAGE = 'User initiated cancellation.';
const CANCEL_FAILED_MESSAGE = 'Cancellation of the deployment failed.';
const DEPLOYMENT_FAILED_MESSAGE = 'Deployment failed.';

/** One emulated service; pipeline state is settled lazily against the clock, so no timers run. */
export class EmulatedService {
  private readonly templateName: string;
  private readonly createdAt: number;
  private readonly spec: string;
  private readonly pipeline?: PipelineState;

  constructor(readonly name: string, readonly arn: string, private readonly options: ServiceOptions,
    private readonly clock: EmulatedClock) {
    this.templateName = options.templateName ?? 'svc-template';
    const now = clock.nowMs();
    this.createdAt = options.createdAt?.getTime() ?? now - 86_400_000;
    this.spec = options.spec ?? `proton: ServiceSpec\npipeline:\n  service_name: "${name}"\n`;
    if (options.pipeline !== false) {
      this.pipeline = new PipelineState(name, `${arn}/pipeline`, this.createdAt, this.spec, options.pipeline ?? {}, now);
    }
  }

  /** Current deployment status of the pipeline (undefined without pipeline). */
  status(): PipelineStatus | undefined {
    this.pipeline?.settle(this.clock.nowMs());
    return this.pipeline?.status;
  }

  /** The `service` member of a GetService answer, as Proton puts it on the wire. */
  describe(): Record<string, unknown> {
    const o = this.options;
    return {
      name: this.name,
      arn: this.arn,
      templateName: this.templateName,
      description: o.description,
      status: o.status ?? 'ACTIVE',
      statusMessage: o.statusMessage,
      spec: this.spec,
      pipeline: this.pipeline?.describe(this.clock.nowMs(), this.templateName, true),
      branchName: o.branchName,
      repositoryConnectionArn: o.repositoryConnectionArn,
      repositoryId: o.repositoryId,
      createdAt: seconds(this.createdAt),
      lastModifiedAt: seconds(o.lastModifiedAt?.getTime() ?? this.createdAt),
    };
  }

  /**
   * CancelServicePipelineDeployment: IN_PROGRESS becomes CANCELLING; anything else is refused.
   *
   * Which error real Proton returns when nothing is in progress is not documented (the API
   * reference lists ValidationException and ConflictException for this operation without saying
   * when); ValidationException is the default here, `refusal` picks the other one.
   *
   * @returns the `pipeline` member of the answer
   */
  cancel(refusal: CancelRefusal): Record<string, unknown> {
    const now = this.clock.nowMs();
    if (!this.pipeline) {
      throw new ProtonError(refusal, `Service ${this.name} has no service pipeline.`);
    }
    this.pipeline.settle(now);
    if (this.pipeline.status !== 'IN_PROGRESS') {
      throw new ProtonError(refusal,
        `Service pipeline deployment of ${this.name} is not in progress (deployment status ${this.pipeline.status}).`);
    }
    this.pipeline.startCancelling(now);
    // The user guide's cancel example answers without the pipeline `spec`; so does this endpoint.
    return this.pipeline.describe(now, this.templateName, false);
  }
}

/**
 * Id of the `n`th deployment of a service: a UUID, as Proton's `DeploymentId` shape requires,
 * derived from the service name and `n` (a name-based UUID, version 5 layout), so it is the same
 * on every run.
 */
export function deploymentId(serviceName: string, n: number): string {
  const hex = createHash('sha1').update(`local-proton/${serviceName}/deployment/${n}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Epoch milliseconds to the epoch seconds of the AWS JSON protocol. */
function seconds(ms: number): number {
  return ms / 1000;
}

/** A pipeline's deployment: the current status and the events (emulated ms) that may end it. */
class PipelineState {
  status: PipelineStatus;
  private message?: string;
  private readonly spec: string;
  private readonly createdAt: number;
  private readonly attemptedAt: number;
  private succeededAt: number;
  private readonly attemptedId: string;
  private succeededId: string;
  /** When the deployment finishes by itself, if ever. */
  private readonly finishesAt?: number;
  /** When the running cancellation completes, if it was accepted and ever completes. */
  private cancelEndsAt?: number;

  constructor(serviceName: string, readonly arn: string, serviceCreatedAt: number, serviceSpec: string,
    private readonly o: PipelineOptions, now: number) {
    this.status = o.status ?? 'IN_PROGRESS';
    this.message = o.deploymentStatusMessage;
    this.spec = o.spec ?? serviceSpec;
    this.createdAt = o.createdAt?.getTime() ?? serviceCreatedAt;
    this.attemptedAt = o.lastDeploymentAttemptedAt?.getTime() ?? now - 60_000;
    const succeeded = this.status === 'SUCCEEDED';
    this.succeededAt = o.lastDeploymentSucceededAt?.getTime() ?? (succeeded ? this.attemptedAt : this.createdAt + 600_000);
    this.attemptedId = o.lastAttemptedDeploymentId ?? deploymentId(serviceName, 2);
    this.succeededId = o.lastSucceededDeploymentId ?? (succeeded ? this.attemptedId : deploymentId(serviceName, 1));
    if (o.finishesAfter !== undefined && Number.isFinite(o.finishesAfter)) {
      this.finishesAt = now + o.finishesAfter * 1000;
    }
    if (this.status === 'CANCELLING') {
      this.startCancelling(now);
    }
  }

  startCancelling(now: number): void {
    const takes = this.o.cancelTakes ?? 120;
    this.status = 'CANCELLING';
    this.cancelEndsAt = Number.isFinite(takes) ? now + takes * 1000 : undefined;
  }

  /** Applies whichever of "deployment finished" and "cancellation completed" came first, if due. */
  settle(now: number): void {
    if (this.status !== 'IN_PROGRESS' && this.status !== 'CANCELLING' && this.status !== 'DELETE_IN_PROGRESS') {
      return;
    }
    const cancelEnd = this.status === 'CANCELLING' ? this.cancelEndsAt ?? Infinity : Infinity;
    const finish = this.finishesAt ?? Infinity;
    if (Math.min(cancelEnd, finish) > now) {
      return;
    }
    if (finish <= cancelEnd) {
      const status = this.o.finishesAs ?? (this.status === 'DELETE_IN_PROGRESS' ? 'DELETE_COMPLETE' : 'SUCCEEDED');
      this.finish(status, finish, status === 'FAILED' ? DEPLOYMENT_FAILED_MESSAGE : undefined);
    } else {
      const status = this.o.cancelEndsAs ?? 'CANCELLED';
      this.finish(status, cancelEnd, status === 'FAILED' ? CANCEL_FAILED_MESSAGE : CANCELLED_MESSAGE);
    }
  }

  private finish(status: PipelineStatus, at: number, message: string | undefined): void {
    this.status = status;
    this.message = message;
    if (status === 'SUCCEEDED') {
      this.succeededAt = at;
      this.succeededId = this.attemptedId;
    }
  }

  describe(now: number, templateName: string, withSpec: boolean): Record<string, unknown> {
    this.settle(now);
    return {
      arn: this.arn,
      createdAt: seconds(this.createdAt),
      lastDeploymentAttemptedAt: seconds(this.attemptedAt),
      lastDeploymentSucceededAt: seconds(this.succeededAt),
      templateName,
      templateMajorVersion: this.o.templateMajorVersion ?? '1',
      templateMinorVersion: this.o.templateMinorVersion ?? '0',
      deploymentStatus: this.status,
      deploymentStatusMessage: this.message,
      spec: withSpec ? this.spec : undefined,
      lastAttemptedDeploymentId: this.attemptedId,
      lastSucceededDeploymentId: this.succeededId,
    };
  }
}
